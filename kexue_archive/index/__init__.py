"""The search index: Whoosh behind our own small API (the only module importing it).

The index lives in ``<archive>/index/`` (derived, never committed). Next to
Whoosh's files it keeps ``kexue-index.json`` (the schema version, checked on
every open) and ``digests.json`` (a digest of what was indexed for each
record id). :func:`update` compares the records with those digests and
touches only records that changed (``update_document``) or disappeared
(``delete_by_term``); it rebuilds from scratch only when the index is
missing, unreadable, of another schema version, or built with another
traditional -> simplified table. Because the index keeps its own digests, a
build interrupted before the index was updated is repaired by the next one.

How a query is answered (see ``query`` for the language, ``matching`` for
the evaluation): every term is folded and turned into index terms
(``analysis.query_terms``): one term, or a phrase at consecutive positions,
which is an exact substring test unless the term holds white space (then
each part is looked up and the stored text decides). The query tree is
evaluated as sets of documents, the filters applied, and the survivors
ranked: title matches first, then BM25F (title boosted), or by date/readers.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..analysis import BigramAnalyzer, Folder, opencc_version, t2s_table
from ..errors import UserError
from ..matching import Evaluator
from ..query import DEFAULT_FIELDS, And, Atom, parse, positive_atoms
from ..snippets import Snippet, highlight_spans, snippet

if TYPE_CHECKING:
    from ..records import Article

#: Bump when the schema, the analyzer or the folding changes: older indexes are rebuilt.
SCHEMA_VERSION = 5
TITLE_BOOST = 3.0
SORTS = ("relevance", "date", "readers")
TEXT_FIELDS = ("title", "excerpt", "math", "author")
#: Columns of numbers only (ranks, lengths): read whole by ``segments.numeric_column``.
NUMERIC_COLUMNS = ("date_rank", "readers_rank", *(f"{name}_len" for name in TEXT_FIELDS))
_META, _DIGESTS = "kexue-index.json", "digests.json"
#: What reading a damaged index raises (files cut short, overwritten, foreign).
_UNREADABLE = (OSError, EOFError, struct.error, pickle.UnpicklingError, UnicodeDecodeError)
_STALE = "the build (`kexue-archive build` or `python build_site.py`) creates or rebuilds the index"


def index_dir(root: Path) -> Path:
    return root / "index"


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


class IndexResult(NamedTuple):
    added: int
    updated: int
    removed: int
    rebuilt: bool


# -- importing Whoosh ------------------------------------------------------------------

def _load_whoosh(*modules: str) -> None:
    """Import Whoosh's ``modules`` (by default what opening an index needs), without three imports it makes that we never use.

    whoosh-reloaded 2.7.5 imports the ``cached_property`` package (which
    imports asyncio: ~35 ms) for one property, ``urllib.request`` (~25 ms)
    for a download helper nothing calls, and ``whoosh.lang.morph_en`` (~10 ms
    of regex compiling) for the English ``Variations`` query we never build.
    Together they were over a third of a cold ``search``. While Whoosh is imported, ``functools.cached_property``
    (the standard-library equivalent) and a stub stand in for them; the stand-ins
    are then taken out of ``sys.modules``, so any later import gets the real ones.
    A search imports ``whoosh.query`` and ``whoosh.searching`` only for date filters.
    """
    import importlib
    import sys

    # whoosh.reading (which imports cached_property) comes with the codec our segments module uses
    wanted = [m for m in modules or ("whoosh.index", "whoosh.codec.whoosh3") if m not in sys.modules]
    if not wanted:
        return
    import functools
    import types

    stand_ins = {name: types.ModuleType(name) for name in ("cached_property", "urllib.request", "whoosh.lang.morph_en")}
    stand_ins["cached_property"].cached_property = functools.cached_property  # type: ignore[attr-defined]  # module stub
    stand_ins["urllib.request"].urlretrieve = _unused  # type: ignore[attr-defined]  # module stub
    stand_ins["whoosh.lang.morph_en"].variations = _unused  # type: ignore[attr-defined]  # module stub
    added = [name for name in stand_ins if name not in sys.modules]
    sys.modules.update({name: stand_ins[name] for name in added})
    try:
        for module in wanted:
            importlib.import_module(module)
    finally:
        for name in added:
            if sys.modules.get(name) is stand_ins[name]:
                del sys.modules[name]


def _unused(*_: Any, **__: Any) -> None:
    raise RuntimeError("a Whoosh feature kexue-archive does not use (downloads, English word variations)")


# -- the schema and the documents ----------------------------------------------------

def _schema(analyzer: BigramAnalyzer) -> Any:
    _load_whoosh()
    from whoosh import fields as f
    from whoosh.columns import NumericColumn

    from .segments import TermPositions

    def text(boost: float = 1.0) -> Any:
        field = f.TEXT(analyzer=analyzer, stored=True, phrase=True, field_boost=boost)
        field.format = TermPositions(field_boost=boost)  # Whoosh's Positions, fed in one call per value
        return field

    return f.Schema(
        id=f.ID(stored=True, unique=True, sortable=True),
        title=text(TITLE_BOOST), excerpt=text(), math=text(), author=text(), date=f.STORED(), readers=f.STORED(),
        year=f.NUMERIC(int, bits=32), day=f.NUMERIC(int, bits=32),
        # Only read as columns (sorting, BM25's lengths in characters), never searched: not indexed
        **{name: f.COLUMN(NumericColumn("q" if name.endswith("_rank") else "i")) for name in NUMERIC_COLUMNS},
    )


def date_rank(date: str | None) -> int:
    """Ascending = newest first; ``--MM-DD`` dates after all full dates; unknown last."""
    digits = (date or "").replace("-", "")
    if not digits.isdigit():
        return 2 * 10**9
    if date and date.startswith("--"):
        return 10**9 + 9999 - int(digits)
    return 99999999 - int(digits)


def _document(a: Article) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": a.id, "title": a.title or "", "excerpt": a.excerpt, "math": "\n".join(m.tex for m in a.math),
        "author": a.author or "", "date": a.date, "readers": a.readers,
        "date_rank": date_rank(a.date), "readers_rank": 1 if a.readers is None else -a.readers,
    }
    doc.update({f"{name}_len": len(doc[name]) for name in TEXT_FIELDS})
    if a.year is not None and a.date:
        doc["year"] = a.year
        doc["day"] = int(a.date.replace("-", ""))
    return doc


def _digest(doc: dict[str, Any]) -> str:
    import hashlib  # lazy: only updates need it

    data = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.blake2b(data, digest_size=12).hexdigest()


# -- opening, updating, rebuilding ------------------------------------------------------

def _meta(root: Path) -> dict[str, Any]:
    try:
        meta = json.loads((index_dir(root) / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _open(root: Path) -> Any:
    """The Whoosh index, or None when it is missing, unreadable or of another version."""
    if _meta(root).get("schema") != SCHEMA_VERSION:
        return None
    try:
        _load_whoosh()
        from whoosh import index as wix

        return wix.open_dir(str(index_dir(root)))
    except Exception:  # any failure to read it (missing, truncated, foreign pickle) means "rebuild"
        return None


def update(
    root: Path, digests: Mapping[str, str], load: Callable[[Sequence[str]], Sequence[Article]], *, full: bool = False,
) -> IndexResult:
    """Bring ``<root>/index`` in line with the archive, touching only what changed.

    ``digests`` maps every record id of the archive to a digest of its content
    (any string that changes when the record does: the build passes its record
    digests); ``load(ids)`` returns those articles. The ids whose digest differs
    from the one indexed are loaded and re-indexed, ids no longer present are
    deleted; everything is loaded when the index is missing, stale or ``full``.
    A build that changed nothing opens nothing but two small JSON files.
    """
    known, files = (None, None) if full else _known(root)
    if files != _files(root):
        known = None  # Whoosh's files changed behind our back (or a crash before we noted them): rebuild
    if known == dict(digests):
        return IndexResult(0, 0, 0, rebuilt=False)  # nothing changed: Whoosh is not even imported
    ix = None if known is None else _open(root)
    rebuilt = ix is None
    if ix is None or known is None:
        known, ix = {}, _create(root)
    changed = [i for i in sorted(digests) if known.get(i) != digests[i]]
    removed = sorted(set(known) - set(digests))
    try:
        if changed or removed:
            _write(ix, [_document(a) for a in load(changed)], removed, fresh=rebuilt)
        averages = _averages(ix)
    finally:
        ix.close()
    from ..archive import atomic_write  # lazy: PyYAML is not needed to search

    meta = {"schema": SCHEMA_VERSION, "opencc": opencc_version(), "averages": averages}
    atomic_write(index_dir(root) / _META, json.dumps(meta).encode())
    state = {"files": _files(root), "digests": dict(sorted(digests.items()))}
    atomic_write(index_dir(root) / _DIGESTS, json.dumps(state).encode())
    added = sum(1 for i in changed if i not in known)
    return IndexResult(added=added, updated=len(changed) - added, removed=len(removed), rebuilt=rebuilt)


def _averages(ix: Any) -> dict[str, float]:
    """Mean length of each text field, for BM25: summed here once, not by every search."""
    with ix.reader() as reader:
        docs = reader.doc_count_all()
        if not docs:  # an archive with no records yet: Whoosh's empty reader has no columns
            return {f"{name}_len": 0.0 for name in TEXT_FIELDS}
        from .segments import numeric_column

        return {f"{name}_len": sum(numeric_column(reader, f"{name}_len")) / docs for name in TEXT_FIELDS}


def _files(root: Path) -> list[list[Any]]:
    """Whoosh's files as (name, size, mtime_ns): if they are as we left them, the index is whole."""
    try:
        entries = sorted(os.scandir(index_dir(root)), key=lambda e: e.name)
    except OSError:
        return []
    return [[e.name, e.stat().st_size, e.stat().st_mtime_ns] for e in entries if e.is_file() and e.name not in (_META, _DIGESTS)]


def _known(root: Path) -> tuple[dict[str, str] | None, list[list[Any]] | None]:
    """The digests indexed and Whoosh's files then, or None when the index must be rebuilt."""
    meta = _meta(root)
    if meta.get("schema") != SCHEMA_VERSION or meta.get("opencc") != opencc_version():
        return None, None
    try:
        state = json.loads((index_dir(root) / _DIGESTS).read_text(encoding="utf-8"))
        return dict(state["digests"]), list(state["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def index_articles(root: Path, articles: Sequence[Article], *, full: bool = False) -> IndexResult:
    """:func:`update` for articles already in memory (tests, benchmarks, tools)."""
    by_id = {a.id: a for a in articles}
    digests = {i: _digest(_document(a)) for i, a in by_id.items()}
    return update(root, digests, lambda ids: [by_id[i] for i in ids], full=full)


def _create(root: Path) -> Any:
    _load_whoosh()
    from whoosh import index as wix

    folder = index_dir(root)
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ix = wix.create_in(str(folder), _schema(BigramAnalyzer(t2s_table())))
    from ..archive import atomic_write

    atomic_write(folder / _META, json.dumps({"schema": SCHEMA_VERSION, "opencc": opencc_version()}).encode())
    return ix


def _write(ix: Any, docs: list[dict[str, Any]], removed: Iterable[str], *, fresh: bool) -> None:
    from .writer import FastSegmentWriter, write_new

    if fresh:
        write_new(ix, docs)
        return
    writer = FastSegmentWriter(ix)
    try:
        for gone in removed:
            writer.delete_by_term("id", gone)
        for doc in docs:
            writer.update_document(**doc)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


# -- searching --------------------------------------------------------------------

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
        from .segments import decode_positions, posting_list

        evaluator = Evaluator(
            reader, folder, (field,) if field else DEFAULT_FIELDS, {"title": TITLE_BOOST}, opened.averages,
            lists=partial(posting_list, reader), positions=decode_positions, column=opened.column,
        )
        within = None
        for docs in _filtered(reader, filters):
            within = docs & (within if within is not None else evaluator.all_docs())
        total, ranked = evaluator.run(node, limit=limit, sort=sort, within=within)
        positives = list(dict.fromkeys(positive_atoms(node)))
        return Results(total, tuple(_hit(reader, folder, d, score, positives) for d, score in ranked))
    except Exception as exc:
        if not isinstance(exc, _UNREADABLE) and not _raised_in_whoosh(exc):
            raise  # our own bug: let it show
        _forget(root)
        raise UserError(f"search index in {index_dir(root)} is damaged ({exc}) — run `kexue-archive build`", _STALE) from exc


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

    def column(self, name: str) -> Sequence[Any]:
        """A column's values by document number: numeric columns read whole, others through Whoosh
        (whose reader of the ``id`` column loads its offset table once, here, not once per search)."""
        if name not in self.columns:
            from .segments import numeric_column

            reader = self.reader
            self.columns[name] = numeric_column(reader, name) if name in NUMERIC_COLUMNS else reader.column_reader(name)
        return self.columns[name]


#: Readers kept open between searches in one process, by index folder, with
#: Whoosh's files as they were when opened: reused while those are unchanged.
_READERS: dict[str, _Opened] = {}


def _reader(root: Path) -> _Opened:
    key, files = str(index_dir(root).resolve()), _files(root)
    cached = _READERS.get(key)
    if cached is not None and cached.files == files and _meta(root).get("schema") == SCHEMA_VERSION:
        return cached
    _forget(root)
    ix = _open(root)
    if ix is None:
        raise UserError(f"search index missing or stale in {index_dir(root)} — run `kexue-archive build`", _STALE)
    try:
        reader = ix.reader()
    except Exception as exc:
        if not isinstance(exc, _UNREADABLE) and not _raised_in_whoosh(exc):
            raise  # our own bug: let it show
        raise UserError(f"search index in {index_dir(root)} is damaged ({exc}) — run `kexue-archive build`", _STALE) from exc
    _READERS[key] = _Opened(files, reader, ix.schema["title"].analyzer, dict(_meta(root).get("averages") or {}))
    return _READERS[key]


def _forget(root: Path) -> None:
    cached = _READERS.pop(str(index_dir(root).resolve()), None)
    if cached is not None:
        cached.reader.close()


def _filters(year: int | None, since: str | None, until: str | None) -> list[Any]:
    if year is None and since is None and until is None:
        return []
    _load_whoosh("whoosh.query", "whoosh.searching")
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
