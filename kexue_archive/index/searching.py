"""Searching the index: a query parsed (``query``), evaluated on the postings (``matching``), hits with snippets.

Reads the index through ``reading`` (Whoosh is not imported by a search).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..analysis import Folder
from ..errors import UserError
from ..lock import wait_for_build
from ..matching import Evaluator
from ..query import DEFAULT_FIELDS, And, Atom, parse, positive_atoms
from ..snippets import Snippet, highlight_spans, snippet
from .opening import STALE, TITLE_BOOST, index_dir, open_snapshot, whoosh_files
from .reading import DamagedIndex, Snapshot

SORTS = ("relevance", "date", "readers")


def page_path(article_id: str) -> str:
    """Where the site puts an article's page, relative to the site folder."""
    return f"articles/{article_id}.html"


class Hit(NamedTuple):
    """One search result; spans are (start, end) offsets in ``title`` and ``snippet``."""

    id: str
    title: str | None
    author: str | None
    date: str | None
    readers: int | None
    score: float
    snippet: str
    highlights: tuple[tuple[int, int], ...]
    title_highlights: tuple[tuple[int, int], ...]

    @property
    def path(self) -> str:
        return page_path(self.id)


class Results(NamedTuple):
    total: int
    hits: tuple[Hit, ...]


def search(
    root: Path, query: str, *, limit: int = 10, sort: str = "relevance", year: int | None = None,
    since: str | None = None, until: str | None = None, author: str | None = None, field: str | None = None,
) -> Results:
    """Articles matching ``query`` (see ``query`` for the language), best first."""
    if not root.is_dir():
        raise UserError(f"no archive at {root}", "run `kexue-archive build` first, or pass --archive DIR")
    if sort not in SORTS or limit < 1:
        raise UserError(f"bad search options: sort={sort!r}, limit={limit}", f"sort is one of {', '.join(SORTS)}; limit >= 1")
    days = _days(year, since, until)
    opened = _opened(root)
    snapshot, folder = opened.snapshot, opened.folder
    try:
        node = parse(query, folder.fold)
        if author is not None:
            if not folder.fold(author).strip():
                raise UserError("--author is empty", "give part of an author's name, e.g. --author 苏剑林")
            node = And((node, Atom(folder.fold(author).strip(), ("author",))))
        if not snapshot.doc_count():
            return Results(0, ())  # an archive with no records: nothing can match
        evaluator = Evaluator(snapshot, (field,) if field else DEFAULT_FIELDS, {"title": TITLE_BOOST}, opened.averages)
        within = None
        for column, low, high in days:
            values = snapshot.numbers(column)
            kept = {d for d in evaluator.all_docs() if values[d] and low <= values[d] <= high}  # 0: unknown
            within = kept if within is None else within & kept
        total, ranked = evaluator.run(node, limit=limit, sort=sort, within=within)
        positives = list(dict.fromkeys(positive_atoms(node)))
        return Results(total, tuple(_hit(snapshot, folder, d, score, positives) for d, score in ranked))
    except (DamagedIndex, UnicodeDecodeError) as exc:  # (only the index's bytes are decoded here)
        _forget(root)
        raise UserError(f"search index in {index_dir(root)} is damaged ({exc}) — run `kexue-archive build --full`",
                        "its files changed in place (same size and time), so only a full build notices") from exc


class _Opened(NamedTuple):
    """An open index with what searches keep of it: Whoosh's files when opened,
    the folding the index was built with, and BM25's mean field lengths."""

    files: list[list[object]]
    snapshot: Snapshot
    folder: Folder
    averages: dict[str, float]


#: Indexes kept open between searches in one process, by index folder: reused while Whoosh's files are unchanged.
_OPEN: dict[str, _Opened] = {}


def _opened(root: Path) -> _Opened:
    key, files = str(index_dir(root).resolve()), whoosh_files(root)
    cached = _OPEN.get(key)
    if cached is not None and cached.files == files:
        return cached
    _forget(root)
    found = open_snapshot(root, files)
    if found is None and wait_for_build(root):  # a build is updating the index: its result, not an error
        files = whoosh_files(root)
        found = open_snapshot(root, files)
    if found is None:
        raise UserError(f"search index missing or stale in {index_dir(root)} — run `kexue-archive build`", STALE)
    _OPEN[key] = _Opened(files, *found)
    return _OPEN[key]


def _forget(root: Path) -> None:
    cached = _OPEN.pop(str(index_dir(root).resolve()), None)
    if cached is not None:
        cached.snapshot.close()


def _days(year: int | None, since: str | None, until: str | None) -> list[tuple[str, int, int]]:
    """The filters as (numeric column, lowest, highest value let through)."""
    found = []
    if year is not None:
        found.append(("year", year, year))
    if since or until:
        found.append(("day", _day(since, low=True) or 0, _day(until, low=False) or 99999999))
    return found


def _day(date: str | None, *, low: bool) -> int | None:
    """YYYY, YYYY-MM or YYYY-MM-DD as the first (low) or last day it covers."""
    if date is None:
        return None
    parts = date.split("-")
    if not (1 <= len(parts) <= 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4):
        raise UserError(f"bad date {date!r}", "write dates as YYYY, YYYY-MM or YYYY-MM-DD")
    numbers = [int(p) for p in parts] + ([1, 1] if low else [12, 31])[len(parts) - 1:]
    return numbers[0] * 10000 + numbers[1] * 100 + numbers[2]


def _hit(snapshot: Snapshot, folder: Folder, docnum: int, score: float, positives: list[Atom]) -> Hit:
    stored = snapshot.stored_fields(docnum)
    needles = [a.text for a in positives]
    title = stored.get("title") or None
    snip: Snippet = snippet(stored.get("excerpt") or "", needles, folder)
    return Hit(
        id=stored["id"], title=title, author=stored.get("author") or None, date=stored.get("date"),
        readers=stored.get("readers"), score=round(float(score), 4), snippet=snip.text, highlights=snip.spans,
        title_highlights=highlight_spans(title or "", needles, folder),
    )
