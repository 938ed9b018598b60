"""The site's shape from record summaries alone, and a signature per page. Pure.

A rebuild must not decode every record to learn that one month page changed.
A :class:`Summary` is what the archive's state database can give for every
article cheaply (id, record digest, title, date, readers, flags, aliases);
from the summaries alone :class:`Layout` knows the date order, the month and
year pages, the series, and for every page a *signature*: a short digest of
everything the page shows (record digests stand in for the records). The
renderer draws a page only when its signature differs from the last render,
so a rebuild's work follows what changed, and a full render is the same code
with no previous signatures.

Pages are laid out so that one new article touches few of them: its month
page (``page/2023-09.html``, newest first), its year page
(``content/2023.html``), its search shard, and its date neighbours.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .series import Part, Series, group, parse

#: Articles on index.html; older ones are found on their month's page.
NEWEST = 20
#: Entries on the popular page.
POPULAR = 100
#: Files the search data is split into, by a stable hash of the article id.
SHARDS = 32
#: The month page (and year key) of articles without a known year.
UNDATED = "undated"
UNKNOWN_YEAR = "unknown"


@dataclass(frozen=True)
class Summary:
    """One article as list pages and signatures see it; ``digest`` stands for the whole record,
    ``opening`` for what its card shows of its text (``state.opening_digest``)."""

    id: str
    digest: str
    title: str | None
    date: str | None
    readers: int | None
    flags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    opening: str = ""

    def row(self) -> tuple[Any, ...]:
        """The summary as stored in the site's state file (a JSON list; see :data:`ROW`)."""
        return (self.digest, self.title, self.date, self.readers, self.flags, self.aliases, self.opening)

    @classmethod
    def from_row(cls, aid: str, row: Sequence[Any]) -> Summary:
        digest, title, date, readers, flags, aliases, opening = row[:ROW]
        return cls(aid, digest, title, date, readers, tuple(flags), tuple(aliases), opening)


#: The length of :meth:`Summary.row`; the site's state file adds the title's series part after it.
ROW = 7


def month_of(date: str | None) -> str:
    """``2023-09-14`` → ``2023-09``; a date without a year → ``undated``."""
    return date[:7] if date and not date.startswith("-") else UNDATED


def year_of(date: str | None) -> str:
    return date[:4] if date and not date.startswith("-") else UNKNOWN_YEAR


def month_path(month: str) -> str:
    return f"page/{month}.html"


def year_path(year: str) -> str:
    return f"content/{year}.html"


def shard_of(aid: str) -> int:
    """Which search shard holds an article: stable across builds, machines and Python versions."""
    return int(hashlib.blake2s(aid.encode(), digest_size=4).hexdigest(), 16) % SHARDS


def shard_path(n: int) -> str:
    return f"assets/search/{n:02d}.js"


#: A search shard's path (:func:`shard_path`).
SHARD = re.compile(r"assets/search/[0-9]{2}\.js")


def in_date_order(items: Iterable[Summary]) -> list[Summary]:
    """Newest first (as the CLI lists); day-only dates after dated ones; unknown last; ties by id.

    Three stable sorts instead of one key that reverses every date character: this runs on every build.
    """
    out = sorted(items, key=lambda s: s.id)
    out.sort(key=lambda s: s.date or "", reverse=True)  # reverse keeps equal dates in id order
    out.sort(key=lambda s: 2 if s.date is None else 1 if s.date.startswith("-") else 0)
    return out


def sign(*parts: Any) -> str:
    """A page's signature: a digest of its inputs (plain data with a stable repr)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=10).hexdigest()


@dataclass(frozen=True)
class Section:
    """One month of a year page: its articles, newest first, and a signature of their rows."""

    month: int
    members: Sequence[Summary]
    sig: str


class Spec(NamedTuple):
    """A page to be: where it goes, its template, its signature, which records it shows in full.

    (A named tuple, not a frozen dataclass: a build makes one per page, 10k and more.)"""

    path: str
    template: str
    sig: str
    kind: str
    key: str = ""
    needs: tuple[str, ...] = ()


class Layout:
    """The site's structure from summaries: order, months, years, series, neighbours."""

    def __init__(self, summaries: Iterable[Summary], parts: Mapping[str, Part | None] | None = None) -> None:
        given = list(summaries)
        #: Every alias some record claims, owned or not (a planner must know which ids are claimed).
        self.claimed = frozenset(alias for s in given if s.aliases for alias in s.aliases)
        self.ordered = in_date_order(_own_aliases(given))
        self.by_id = {s.id: s for s in self.ordered}
        self.ids = [s.id for s in self.ordered]
        self.position = {s.id: i for i, s in enumerate(self.ordered)}
        parts = parts if parts is not None else {s.id: parse(s.title) for s in self.ordered}
        self.parts = parts
        self.series: list[Series] = group(
            (p, s.id, s.date) for s in self.ordered if (p := parts.get(s.id)) is not None
        )
        self.member = {aid: (s, i) for s in self.series for i, (_, aid) in enumerate(s.members)}
        self.months: dict[str, list[Summary]] = {}
        self.years: dict[str, list[Summary]] = {}
        for s in self.ordered:
            self.months.setdefault(month_of(s.date), []).append(s)
            self.years.setdefault(year_of(s.date), []).append(s)
        self._sections: dict[str, tuple[list[Section], list[Summary]]] = {}

    def place(self, aid: str) -> dict[str, Any] | None:
        """A series member's series, part number and the parts before and after it; None for others.

        Worked out on demand: a rebuild needs it for the few article pages it plans again."""
        found = self.member.get(aid)
        if found is None:
            return None
        s, i = found
        number = s.members[i][0]
        prev = s.members[i - 1] if i > 0 else None
        nxt = s.members[i + 1] if i + 1 < len(s.members) else None
        # no member count here: a new part would redraw every member's page
        return {
            "id": s.id, "name": s.name, "number": number,
            "prev": {"number": prev[0], **link(self.by_id[prev[1]])} if prev else None,
            "next": {"number": nxt[0], **link(self.by_id[nxt[1]])} if nxt else None,
        }

    def neighbours(self, aid: str) -> tuple[Summary | None, Summary | None]:
        """The newer and the older article by date."""
        i = self.position[aid]
        newer = self.ordered[i - 1] if i > 0 else None
        older = self.ordered[i + 1] if i + 1 < len(self.ordered) else None
        return newer, older

    def month_keys(self) -> list[str]:
        return list(self.months)  # newest first, undated last: the order of ``ordered``

    def year_keys(self) -> list[str]:
        return list(self.years)

    def sections(self, year: str) -> tuple[list[Section], list[Summary]]:
        """A year's months, newest first, and its articles without even a month (worked out once)."""
        if year not in self._sections:
            months: dict[int, list[Summary]] = {}
            undated = []
            for s in self.years[year]:
                if s.date is None:
                    undated.append(s)
                else:
                    months.setdefault(int(s.date[-5:-3]), []).append(s)
            self._sections[year] = ([
                Section(m, members, sign(m, [(s.id, s.title, s.date, s.readers) for s in members]))
                for m, members in sorted(months.items(), reverse=True)
            ], undated)
        return self._sections[year]

    def newest(self) -> list[Summary]:
        return self.ordered[:NEWEST]

    def popular(self) -> list[Summary]:
        return sorted((s for s in self.ordered if s.readers is not None), key=lambda s: (-(s.readers or 0), s.id))[:POPULAR]

    def shards(self) -> list[list[Summary]]:
        out: list[list[Summary]] = [[] for _ in range(SHARDS)]
        for s in sorted(self.ordered, key=lambda s: s.id):
            out[shard_of(s.id)].append(s)
        return out


def _own_aliases(summaries: list[Summary]) -> list[Summary]:
    """An alias belongs to one record: the largest id claiming it (as the archive's aliases.yaml
    has it), and never to a record when another record has that id (its page is there)."""
    owner: dict[str, str] = {}
    for s in summaries:
        for alias in s.aliases:
            owner[alias] = max(owner.get(alias, ""), s.id)
    if not owner:
        return summaries
    ids = {s.id for s in summaries}
    return [s if not s.aliases else dataclasses.replace(
        s, aliases=tuple(x for x in s.aliases if owner[x] == s.id and x not in ids and x != s.id)) for s in summaries]


def link(s: Any) -> dict[str, Any]:
    """What a link to an article shows: only its title, so a neighbour's reader
    count changing does not redraw this page."""
    return {"id": s.id, "title": s.title}


def _around(keys: Sequence[str], i: int) -> tuple[str | None, str | None]:
    return (keys[i - 1] if i > 0 else None), (keys[i + 1] if i + 1 < len(keys) else None)


@dataclass(frozen=True)
class Only:
    """The pages to work out, of the kinds a change touches one by one (``site_plan``):
    these article pages (and their redirects), months, years (None: all) and series pages.
    The home, contents, popular, search and series index pages are always worked out."""

    articles: frozenset[str]
    months: frozenset[str] | None
    years: frozenset[str] | None
    series: frozenset[str]


def specs(layout: Layout, only: Only | None = None) -> list[Spec]:
    """Every page but the data-quality page and the search shards, with its signature;
    with ``only``, those pages alone."""
    out = [_index_spec(layout)]
    months = layout.month_keys()
    for i, m in enumerate(months):
        if only is not None and only.months is not None and m not in only.months:
            continue
        members = layout.months[m]
        newer, older = _around(months, i)
        out.append(Spec(month_path(m), "month.html", sign(m, newer, older, [(s.id, s.digest) for s in members]),
                        "month", m, tuple(s.id for s in members)))
    years = layout.year_keys()
    for i, y in enumerate(years):
        if only is not None and only.years is not None and y not in only.years:
            continue
        sections, undated = layout.sections(y)
        rows = [(s.id, s.title, s.date, s.readers) for s in undated]
        out.append(Spec(year_path(y), "content_year.html", sign(y, _around(years, i), [x.sig for x in sections], rows),
                        "year", y))
    out.append(Spec("content.html", "content.html", sign([(y, [s.date for s in layout.years[y]]) for y in years]), "content"))
    top = [(s.id, s.title, s.date, s.readers) for s in layout.popular()]
    out.append(Spec("popular.html", "popular.html", sign(top), "popular"))
    out.append(Spec("search.html", "search.html", sign(len(layout.ordered), years, SHARDS), "search"))
    out += _series_specs(layout, None if only is None else only.series)
    out += _article_specs(layout, layout.ordered if only is None else [layout.by_id[i] for i in sorted(only.articles)])
    return out


def paths(layout: Layout) -> list[str]:
    """Where :func:`specs` puts every page, in no particular order (cheap: no signatures)."""
    out = ["index.html", "content.html", "popular.html", "search.html", "series/index.html"]
    out += [month_path(m) for m in layout.months]
    out += [year_path(y) for y in layout.years]
    out += [series_path(s.id) for s in layout.series]
    out += [article_path(s.id) for s in layout.ordered]
    out += [article_path(alias) for s in layout.ordered if s.aliases for alias in s.aliases]
    return out


def article_path(aid: str) -> str:
    return f"articles/{aid}.html"


def series_path(sid: str) -> str:
    return f"series/{sid}.html"


def _index_spec(layout: Layout) -> Spec:
    newest = layout.newest()
    last = month_of(newest[-1].date) if newest else None
    return Spec("index.html", "home.html", sign(last, [(s.id, s.digest) for s in newest]), "index", "",
                tuple(s.id for s in newest))


def _series_specs(layout: Layout, only: frozenset[str] | None) -> list[Spec]:
    listing = [(s.id, s.name, len(s.members), s.members[0][0], s.members[-1][0]) for s in layout.series]
    out = [Spec("series/index.html", "series_index.html", sign(listing), "series_index")]
    for s in layout.series:
        if only is not None and s.id not in only:
            continue
        members = [(n, aid, layout.by_id[aid].digest) for n, aid in s.members]
        out.append(Spec(series_path(s.id), "series.html", sign(s.name, members), "series", s.id,
                        tuple(aid for _, aid in s.members)))
    return out


def _article_specs(layout: Layout, chosen: Sequence[Summary]) -> list[Spec]:
    """One page per record and a redirect page per alias; the signature covers the record,
    its neighbours' links and its place in a series.

    A full render works them out for every record, hence whole lists at a time.
    """
    ordered, position = layout.ordered, layout.position
    last = len(ordered) - 1

    def around(s: Summary) -> tuple[str, str]:
        i = position[s.id]
        # fields joined by separators no title, id or digest holds (titles are cleaned of controls); "\x1d": none
        newer = "\x1f".join((ordered[i - 1].id, ordered[i - 1].title or "")) if i > 0 else "\x1d"
        older = "\x1f".join((ordered[i + 1].id, ordered[i + 1].title or "")) if i < last else "\x1d"
        return newer, older

    member = layout.member
    texts = ["\x1e".join((s.digest, "\x1f".join(s.aliases), *around(s), repr(layout.place(s.id)) if s.id in member else ""))
             for s in chosen]
    blake2b = hashlib.blake2b
    out = [Spec(article_path(s.id), "article.html", blake2b(text.encode(), digest_size=10).hexdigest(), "article",
                s.id, (s.id,)) for s, text in zip(chosen, texts, strict=True)]
    for s in chosen:
        for alias in s.aliases:
            out.append(Spec(article_path(alias), "redirect.html", sign(s.id, s.title, alias), "redirect",
                            f"{s.id}/{alias}"))
    return out
