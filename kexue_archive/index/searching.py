"""Searching the index: a query parsed (``query``), evaluated on the postings (``matching``), hits with snippets."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..analysis import Folder
from ..errors import UserError
from ..matching import Evaluator
from ..query import DEFAULT_FIELDS, And, Atom, parse, positive_atoms
from ..snippets import Snippet, highlight_spans, snippet
from .opening import (
    NUMERIC_COLUMNS,
    SCHEMA_VERSION,
    STALE,
    TITLE_BOOST,
    UNREADABLE,
    index_dir,
    load_whoosh,
    open_index,
    read_meta,
    whoosh_files,
)

if TYPE_CHECKING:
    from .segments import TextColumn

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
    filters = _filters(year, since, until)
    opened = _reader(root)
    reader, folder = opened.reader, opened.folder
    try:
        node = parse(query, folder.fold)
        if author is not None:
            if not folder.fold(author).strip():
                raise UserError("--author is empty", "give part of an author's name, e.g. --author 苏剑林")
            node = And((node, Atom(folder.fold(author).strip(), ("author",))))
        if not reader.doc_count_all():
            return Results(0, ())  # an archive with no records: nothing can match (Whoosh's empty reader has no columns)
        from .segments import document_frequency, posting_list

        evaluator = Evaluator(
            reader, (field,) if field else DEFAULT_FIELDS, {"title": TITLE_BOOST}, opened.averages,
            lists=partial(posting_list, reader), frequency=partial(document_frequency, reader),
            texts=opened.text, column=opened.column,
        )
        within = None
        for docs in _filtered(reader, filters):
            within = docs & (within if within is not None else evaluator.all_docs())
        total, ranked = evaluator.run(node, limit=limit, sort=sort, within=within)
        positives = list(dict.fromkeys(positive_atoms(node)))
        return Results(total, tuple(_hit(reader, folder, d, score, positives) for d, score in ranked))
    except Exception as exc:
        if not isinstance(exc, UNREADABLE) and not _raised_in_whoosh(exc):
            raise  # our own bug: let it show
        _forget(root)
        raise UserError(f"search index in {index_dir(root)} is damaged ({exc}) — run `kexue-archive build`", STALE) from exc


def _raised_in_whoosh(exc: BaseException) -> bool:
    """Whoosh reports damaged files with bare ``Exception`` ("Block tag error"): tell them by where they come from."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}whoosh{os.sep}" in tb.tb_frame.f_code.co_filename


class _Opened:
    """An open reader with what searches keep of it: its analyzer (the folding the index
    was built with), field statistics and the columns read so far."""

    def __init__(self, files: list[list[Any]], reader: Any, folder: Folder, averages: dict[str, float]) -> None:
        self.files, self.reader, self.folder, self.averages = files, reader, folder, averages
        self.columns: dict[str, Sequence[Any]] = {}
        self.texts: dict[str, TextColumn] = {}

    def column(self, name: str) -> Sequence[Any]:
        """A column's values by document number: numeric columns read whole, others through Whoosh
        (whose reader of the ``id`` column loads its offset table once, here, not once per search)."""
        if name not in self.columns:
            from .segments import numeric_column

            reader = self.reader
            self.columns[name] = numeric_column(reader, name) if name in NUMERIC_COLUMNS else reader.column_reader(name)
        return self.columns[name]


    def text(self, field: str) -> TextColumn:
        """The folded ``field`` of every document (read on first use)."""
        if field not in self.texts:
            from .segments import TextColumn

            self.texts[field] = TextColumn(self.reader, field)
        return self.texts[field]


#: Readers kept open between searches in one process, by index folder, with
#: Whoosh's files as they were when opened: reused while those are unchanged.
_READERS: dict[str, _Opened] = {}


def _reader(root: Path) -> _Opened:
    key, files = str(index_dir(root).resolve()), whoosh_files(root)
    cached = _READERS.get(key)
    if cached is not None and cached.files == files and read_meta(root).get("schema") == SCHEMA_VERSION:
        return cached
    _forget(root)
    ix = open_index(root)
    if ix is None:
        raise UserError(f"search index missing or stale in {index_dir(root)} — run `kexue-archive build`", STALE)
    try:
        reader = ix.reader()
    except Exception as exc:
        if not isinstance(exc, UNREADABLE) and not _raised_in_whoosh(exc):
            raise  # our own bug: let it show
        raise UserError(f"search index in {index_dir(root)} is damaged ({exc}) — run `kexue-archive build`", STALE) from exc
    _READERS[key] = _Opened(files, reader, reader.schema["title"].analyzer, dict(read_meta(root).get("averages") or {}))
    return _READERS[key]


def _forget(root: Path) -> None:
    cached = _READERS.pop(str(index_dir(root).resolve()), None)
    if cached is not None:
        cached.reader.close()


def _filters(year: int | None, since: str | None, until: str | None) -> list[Any]:
    if year is None and since is None and until is None:
        return []
    load_whoosh("whoosh.query", "whoosh.searching")
    from whoosh.query import NumericRange

    found = []
    if year is not None:
        found.append(NumericRange("year", year, year))
    if since or until:
        found.append(NumericRange("day", _day(since, low=True), _day(until, low=False)))
    return found


def _filtered(reader: Any, filters: list[Any]) -> list[set[int]]:
    """The documents each filter lets through."""
    if not filters:
        return []
    from whoosh.searching import Searcher

    searcher = Searcher(reader)  # never closed: that would close the reader, which is kept open
    return [set(searcher.docs_for_query(f)) for f in filters]


def _day(date: str | None, *, low: bool) -> int | None:
    """YYYY, YYYY-MM or YYYY-MM-DD as the first (low) or last day it covers."""
    if date is None:
        return None
    parts = date.split("-")
    if not (1 <= len(parts) <= 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4):
        raise UserError(f"bad date {date!r}", "write dates as YYYY, YYYY-MM or YYYY-MM-DD")
    numbers = [int(p) for p in parts] + ([1, 1] if low else [12, 31])[len(parts) - 1:]
    return numbers[0] * 10000 + numbers[1] * 100 + numbers[2]


def _hit(reader: Any, folder: Folder, docnum: int, score: float, positives: list[Atom]) -> Hit:
    stored = reader.stored_fields(docnum)
    needles = [a.text for a in positives]
    title = stored.get("title") or None
    snip: Snippet = snippet(stored.get("excerpt") or "", needles, folder)
    return Hit(
        id=stored["id"], title=title, author=stored.get("author") or None, date=stored.get("date"),
        readers=stored.get("readers"), score=round(float(score), 4), snippet=snip.text, highlights=snip.spans,
        title_highlights=highlight_spans(title or "", needles, folder),
    )
