"""Join every sighting of the same article into one record. Pure.

The merge is a join (in the lattice sense): :func:`join` is commutative,
associative and idempotent, and :func:`merge` depends only on the *set* of
sightings. So merging dumps in any order, in any batches, gives the same
records: an incremental build equals a full one by construction.

Field policy, each rule a total order so that "pick the best" is a join:
  title    a title beats none; the original typography (full-width
           punctuation, i.e. not NFKC-normalised) beats a normalised copy.
  date     a full date beats ``--MM-DD`` beats none; disagreeing dates keep
           the earliest and raise ``date-conflict``.
  readers  the largest seen; every dump's own count stays in ``sources``.
  excerpt  the longest (white space ignored), ties to the lexicographically
           smallest; ``excerpt-conflict`` when the shorter is not a prefix
           of the longer (prefixes chain, so the flag is order-independent).
  author, url  a value beats none; disagreement keeps the smallest and flags.
Conflicts raise flags, never exceptions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from difflib import SequenceMatcher

from .records import Article, Problem, Sighting, Source
from .tex import scan
from .text import fingerprint_id, nfkc, squash, title_id, title_key

#: Bump when the merge's policy or ids change, or when the state's regrouping did: the build state is
#: then rebuilt from the ledgers, regrouping everything.
MERGE_VERSION = 3  # 3: undated title-less twins from different dumps were left apart by incremental builds
#: Flags recomputed from the chosen fields on every join (never carried over).
DERIVED_FLAGS = frozenset({"title-missing", "year-unknown", "excerpt-missing", "unbalanced-math"})
#: How alike two excerpt openings must be for a title-less sighting to match.
SIMILARITY = 0.9
#: Characters of each excerpt compared; enough to tell articles apart.
COMPARE_CHARS = 400
#: Below this many comparable characters nothing is matched: too little evidence.
MIN_COMPARE_CHARS = 30


def from_sighting(s: Sighting) -> Article:
    """A one-sighting record: the unit the join builds on."""
    article = Article(
        id=title_id(s.title) if s.title else fingerprint_id(s.excerpt, s.date),
        title=s.title, author=s.author, date=s.date, readers=s.readers, excerpt=s.excerpt,
        math=(), url=s.url, sources=(Source(s.file, s.line, s.readers),),
        flags=tuple(sorted(set(s.flags) - DERIVED_FLAGS)),
    )
    return _derive(article, set(article.flags))


def _derive(a: Article, flags: set[str]) -> Article:
    """Fill in what follows from the chosen fields: math and the derived flags."""
    found = scan(a.excerpt)
    flags = {f for f in flags if f not in DERIVED_FLAGS}
    if a.title is None:
        flags.add("title-missing")
    if a.date is None or a.date.startswith("--"):
        flags.add("year-unknown")
    if not a.excerpt:
        flags.add("excerpt-missing")
    if found.unbalanced:
        flags.add("unbalanced-math")
    return Article(
        id=a.id, title=a.title, author=a.author, date=a.date, readers=a.readers, excerpt=a.excerpt,
        math=found.math, url=a.url, sources=a.sources, flags=tuple(sorted(flags)), aliases=a.aliases,
    )


def _title_rank(title: str) -> tuple[bool, str]:
    return (title == nfkc(title), title)


def _pick(x: str | None, y: str | None, name: str, flags: set[str]) -> str | None:
    """A value beats None; two different values keep the smaller and flag it."""
    if x is None or y is None:
        return x if y is None else y
    if x != y:
        flags.add(f"{name}-conflict")
    return min(x, y)


def _date_rank(date: str | None) -> int:
    return 0 if date is None else 1 if date.startswith("--") else 2


def _join_dates(x: str | None, y: str | None, flags: set[str]) -> str | None:
    if _date_rank(x) != _date_rank(y):
        best, other = (x, y) if _date_rank(x) > _date_rank(y) else (y, x)
        assert best is not None
        if other is not None and best[-5:] != other[-5:]:
            flags.add("date-conflict")  # the day and month disagree
        return best
    return _pick(x, y, "date", flags)


def _excerpt_rank(excerpt: str) -> tuple[int, int, str]:
    return (-len(squash(excerpt)), -len(excerpt), excerpt)


def _join_excerpts(x: str, y: str, flags: set[str]) -> str:
    best, other = sorted((x, y), key=_excerpt_rank)
    if not squash(best).startswith(squash(other)):
        flags.add("excerpt-conflict")
    return best


def _source_key(s: Source) -> tuple[str, int, int]:
    return (s.file, s.line, -1 if s.readers is None else s.readers)


def join(a: Article, b: Article) -> Article:
    """The least record that says everything ``a`` and ``b`` say."""
    flags = set(a.flags) | set(b.flags)
    titles = [t for t in (a.title, b.title) if t is not None]
    title = min(titles, key=_title_rank) if titles else None
    new_id = title_id(title) if title else min(a.id, b.id)
    aliases = (set(a.aliases) | set(b.aliases) | {a.id, b.id}) - {new_id}
    merged = Article(
        id=new_id,
        title=title,
        author=_pick(a.author, b.author, "author", flags),
        date=_join_dates(a.date, b.date, flags),
        readers=max((r for r in (a.readers, b.readers) if r is not None), default=None),
        excerpt=_join_excerpts(a.excerpt, b.excerpt, flags),
        math=(),
        url=_pick(a.url, b.url, "url", flags),
        sources=tuple(sorted(set(a.sources) | set(b.sources), key=_source_key)),
        flags=(),
        aliases=tuple(sorted(aliases)),
    )
    return _derive(merged, flags)


def alike(x: str, y: str) -> float:
    """How alike two excerpt openings are (difflib's ratio, 0..1) when that
    reaches :data:`SIMILARITY`; else 0.0, as when they are too short to judge.

    Most pairs compared are different articles of the same day; the matcher's
    cheap upper bounds rule those out before its quadratic ratio (4x faster).
    """
    x, y = squash(x), squash(y)
    n = min(len(x), len(y), COMPARE_CHARS)
    if n < MIN_COMPARE_CHARS:
        return 0.0
    matcher = SequenceMatcher(None, x[:n], y[:n], autojunk=False)
    if matcher.real_quick_ratio() < SIMILARITY or matcher.quick_ratio() < SIMILARITY:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= SIMILARITY else 0.0


def _month_day(date: str | None) -> str | None:
    return date[-5:] if date else None


def group(sightings: Iterable[Sighting]) -> list[list[Sighting]]:
    """Partition sightings into articles: by NFKC title, and title-less ones by
    day/month plus a near-identical excerpt opening."""
    unique = sorted(set(sightings), key=_sort_key)
    titled: dict[str, list[Sighting]] = defaultdict(list)
    untitled: list[Sighting] = []
    for s in unique:
        (titled[title_key(s.title)] if s.title else untitled).append(s)
    by_day: dict[str, set[str]] = defaultdict(set)
    for key, members in titled.items():
        for s in members:
            if (md := _month_day(s.date)) is not None:
                by_day[md].add(key)
    matches = {s: _best_titled(s, by_day, titled) for s in untitled}
    orphans = [s for s, match in matches.items() if match is None]
    for s, match in matches.items():
        if match is not None:
            titled[match].append(s)
    return [titled[k] for k in sorted(titled)] + _cluster(orphans)


def _best_titled(s: Sighting, by_day: dict[str, set[str]], titled: dict[str, list[Sighting]]) -> str | None:
    """The titled article this title-less sighting is: the most alike on its
    day/month, ties to the smallest key; None when nothing is alike enough."""
    md = _month_day(s.date)
    if md is None:
        return None
    scored = [(alike(s.excerpt, t.excerpt), key) for key in sorted(by_day.get(md, ())) for t in titled[key]]
    best = min(scored, key=lambda sk: (-sk[0], sk[1]), default=None)
    return best[1] if best is not None and best[0] >= SIMILARITY else None


def _cluster(orphans: list[Sighting]) -> list[list[Sighting]]:
    """Connected components of 'same day/month and near-identical' among
    title-less sightings (components do not depend on visiting order)."""
    parent = list(range(len(orphans)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(orphans):
        for j in range(i):
            b = orphans[j]
            if _month_day(a.date) == _month_day(b.date) and alike(a.excerpt, b.excerpt):
                parent[root(i)] = root(j)
    components: dict[int, list[Sighting]] = defaultdict(list)
    for i, s in enumerate(orphans):
        components[root(i)].append(s)
    return list(components.values())


def _sort_key(s: Sighting) -> tuple[str, int, str]:
    return (s.file, s.line, repr(s))


def merge_groups(sightings: Iterable[Sighting]) -> list[tuple[Article, list[Sighting]]]:
    """Every article the sightings describe with the sightings it joins, by id."""
    merged = []
    for members in group(sightings):
        article = from_sighting(members[0])
        for s in members[1:]:
            article = join(article, from_sighting(s))
        merged.append((article, members))
    return sorted(merged, key=lambda am: am[0].id)


def merge(sightings: Iterable[Sighting]) -> list[Article]:
    """Every article the sightings describe, sorted by id."""
    return [article for article, _ in merge_groups(sightings)]


def conflicts(articles: Iterable[Article]) -> list[Problem]:
    """One warning per conflict flag, at the article's first source."""
    problems = []
    for a in articles:
        label = f"«{a.title}»" if a.title else f"untitled {a.id}"
        where = ", ".join(f"{s.file}:{s.line}" for s in a.sources)
        for flag in a.flags:
            if flag.endswith("-conflict"):
                what = flag.removesuffix("-conflict")
                first = a.sources[0]
                message = f"{flag}: dumps disagree on the {what} of {label} ({where})"
                problems.append(Problem(first.file, first.line, "warning", message))
    return problems
