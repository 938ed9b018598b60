"""What each page shows: its context, from the layout and the records it shows in full. Pure.

:mod:`site_layout` decides which pages exist and which changed; this module
turns one page into plain JSON-able data for its template. Only article,
index, month and series pages read whole records (excerpts, sources); the
others are drawn from summaries alone. Formulas are not rendered here:
``Page.math`` names the articles whose rendered math the page shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .records import Article, Problem
from .site_layout import (
    POPULAR,
    SHARDS,
    UNDATED,
    UNKNOWN_YEAR,
    Layout,
    Spec,
    Summary,
    link,
    month_of,
    month_path,
    shard_path,
    specs,
    year_path,
)
from .site_text import bibtex, date_label, opening_html
from .state import opening_digest

#: What an article id may look like before it becomes a file name.
SAFE_ID = re.compile(r"[0-9a-z]{4,64}")

FLAG_TEXT = {
    "title-missing": "标题缺失：存档里没有一处给出标题",
    "year-unknown": "年份不详：抓取的页面没有给出年份",
    "excerpt-missing": "摘要缺失",
    "excerpt-conflict": "各存档的摘要不一致（取最长的一份）",
    "unbalanced-math": "公式定界符不配对",
    "date-conflict": "各存档的日期不一致（取最早的一个）",
    "author-conflict": "各存档的作者不一致",
    "url-conflict": "各存档的原文链接不一致",
}


@dataclass(frozen=True)
class Page:
    """One output file: where it goes, which template draws it, with what."""

    path: str
    template: str
    context: Mapping[str, Any]
    math: tuple[str, ...] = field(default=())


def date_order(a: Article | Summary) -> tuple[int, str, str]:
    """Newest first (as the CLI lists); day-only dates after dated ones; unknown last."""
    if a.date is None:
        return (2, "", a.id)
    rank = 1 if a.date.startswith("--") else 0
    return (rank, "".join(chr(0x10FFFF - ord(c)) for c in a.date), a.id)


def brief(a: Article | Summary, *, opening: str | None = None) -> dict[str, Any]:
    """What a list shows of an article (a card also shows its opening: ``site_text.opening_html``)."""
    out: dict[str, Any] = {"id": a.id, "title": a.title, "date": a.date, "label": date_label(a.date), "readers": a.readers}
    if opening is not None:
        out["opening"] = opening
    return out


def web_url(url: str | None) -> str | None:
    """A link target only for http(s) URLs (a crawled ``javascript:`` must never become a link),
    with every character a URL may not hold percent-encoded so the href stays valid."""
    if not url or not re.match(r"https?://[^\s/?#]+", url, re.ASCII):
        return None
    encoded = quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~")
    return re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", encoded)  # a stray % becomes a literal one


def month_label(month: str) -> str:
    return "年份不详" if month == UNDATED else f"{int(month[:4])}年{int(month[5:7])}月"


def year_label(year: str) -> str:
    return "年份不详" if year == UNKNOWN_YEAR else f"{year}年"


def _nav(path: str | None, label: str | None) -> dict[str, str] | None:
    return {"path": path, "label": label} if path and label else None


def summarise(a: Article, digest: str) -> Summary:
    return Summary(a.id, digest, a.title, a.date, a.readers, a.flags, tuple(x for x in a.aliases if SAFE_ID.fullmatch(x)),
                   opening_digest(a))


def plan(articles: Sequence[Article]) -> list[Page]:
    """Every page but the data-quality page and the search shards, from whole records, their math
    not rendered (the renderer draws only some of these; tests look at all of them)."""
    from .site_records import record_digest

    layout = Layout(summarise(a, record_digest(a)) for a in articles)
    by_id = {a.id: a for a in articles}
    openings = {a.id: opening_html(a.excerpt, ()) for a in articles}
    return [page(spec, layout, by_id, openings) for spec in specs(layout)]


def page(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> Page:
    """The page ``spec`` names: ``articles`` must hold the record of an article page, ``openings``
    the opening of every card (``spec.needs`` of the other pages)."""
    return Page(spec.path, spec.template, _CONTEXTS[spec.kind](spec, layout, articles, openings), spec.needs)


def cards(spec: Spec) -> tuple[str, ...]:
    """The records whose openings the page ``spec`` shows (an article page shows its own record whole)."""
    return () if spec.kind == "article" else spec.needs


def _index(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    newest = layout.newest()
    more = month_of(newest[-1].date) if newest else None
    return {"items": [brief(layout.by_id[aid], opening=openings[aid]) for aid in spec.needs],
            "more": _nav(more and month_path(more), more and month_label(more))}


def _month(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    months = layout.month_keys()
    i = months.index(spec.key)
    newer = months[i - 1] if i > 0 else None
    older = months[i + 1] if i + 1 < len(months) else None
    return {"month": spec.key, "label": month_label(spec.key), "undated": spec.key == UNDATED,
            "items": [brief(layout.by_id[aid], opening=openings[aid]) for aid in spec.needs],
            "newer": _nav(newer and month_path(newer), newer and month_label(newer)),
            "older": _nav(older and month_path(older), older and month_label(older))}


def _year(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    """One year like the blog's content.html: months newest first; undated ones last."""
    sections, undated = layout.sections(spec.key)
    years = layout.year_keys()
    i = years.index(spec.key)
    newer = years[i - 1] if i > 0 else None
    older = years[i + 1] if i + 1 < len(years) else None
    return {"year": spec.key, "label": year_label(spec.key), "count": len(layout.years[spec.key]),
            "months": [{"month": x.month, "sig": x.sig, "entries": [brief(s) for s in x.members]} for x in sections],
            "undated": [brief(s) for s in undated],
            "newer": _nav(newer and year_path(newer), newer and year_label(newer)),
            "older": _nav(older and year_path(older), older and year_label(older))}


def _content(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    """The index of years: counts per year and per month, each linking to the year page."""
    years = []
    for y, members in layout.years.items():
        counts: dict[int, int] = defaultdict(int)
        undated = 0
        for s in members:
            if s.date is None:
                undated += 1
            else:
                counts[int(s.date[-5:-3])] += 1
        years.append({"year": y, "label": year_label(y), "path": year_path(y), "count": len(members),
                      "months": [{"month": m, "count": n} for m, n in sorted(counts.items(), reverse=True)],
                      "undated": undated})
    return {"years": years, "total": len(layout.ordered)}


def _popular(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    return {"items": [brief(s) for s in layout.popular()], "limit": POPULAR}


def _search(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    years = [y for y in layout.year_keys() if y != UNKNOWN_YEAR]
    return {"years": [int(y) for y in years], "total": len(layout.ordered), "shards": [shard_path(n) for n in range(SHARDS)]}


def _series_index(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    ranked = sorted(layout.series, key=lambda s: (-len(s.members), s.name, s.id))
    return {"series": [{"id": s.id, "name": s.name, "count": len(s.members), "first": s.members[0][0],
                        "last": s.members[-1][0]} for s in ranked]}


def _series(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    s = next(x for x in layout.series if x.id == spec.key)
    members, last = [], 0
    for n, aid in s.members:
        # parts the archive does not hold are said so, where they would stand
        gap = [last + 1, n - 1] if n - 1 > last else None
        members.append({"number": n, "gap": gap, **brief(layout.by_id[aid], opening=openings[aid])})
        last = max(last, n)
    return {"id": s.id, "name": s.name, "members": members}


def _article(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    a = articles[spec.key]
    newer, older = layout.neighbours(a.id)
    return {
        "a": {**brief(a), "excerpt": a.excerpt, "author": a.author, "url": web_url(a.url),
              "aliases": list(layout.by_id[a.id].aliases), "math_count": len(a.math)},
        "flags": [{"code": f, "text": FLAG_TEXT.get(f, f)} for f in a.flags],
        "sources": [{"file": s.file, "line": s.line, "readers": s.readers} for s in a.sources],
        "newer": newer and link(newer), "older": older and link(older), "series": layout.place(a.id),
        "bibtex": bibtex(a.id, a.title, a.author, a.date, a.url),
    }


def _redirect(spec: Spec, layout: Layout, articles: Mapping[str, Article], openings: Mapping[str, str]) -> dict[str, Any]:
    target, alias = spec.key.split("/")
    return {"target": target, "title": layout.by_id[target].title, "alias": alias}


_CONTEXTS = {
    "index": _index, "month": _month, "year": _year, "content": _content, "popular": _popular, "search": _search,
    "series_index": _series_index, "series": _series, "article": _article, "redirect": _redirect,
}


def quality_page(layout: Layout, problems: Sequence[Problem]) -> Page:
    """Every flagged record and build problem, from summaries alone."""
    flagged: list[dict[str, Any]] = [
        {"id": s.id, "title": s.title, "label": date_label(s.date),
         "flags": [{"code": f, "text": FLAG_TEXT.get(f, f)} for f in s.flags]}
        for s in layout.ordered if s.flags
    ]
    flagged.sort(key=lambda x: (x["flags"][0]["code"], x["id"]))
    tally: dict[str, int] = defaultdict(int)
    for s in layout.ordered:
        for f in s.flags:
            tally[f] += 1
    rows = [{"where": f"{p.file}:{p.line}", "severity": p.severity, "message": p.message} for p in problems]
    return Page("quality.html", "quality.html", {
        "flagged": flagged, "tally": [{"code": f, "text": FLAG_TEXT.get(f, f), "count": n} for f, n in sorted(tally.items())],
        # the total only where it is shown (no flags at all), so a new article need not redraw this page
        "problems": rows, "total": None if tally else len(layout.ordered),
    })
