"""The search index: Whoosh behind our own small API (the only package importing it).

This module updates the index through Whoosh; ``searching`` answers queries
through ``reading``, which reads Whoosh's files without importing Whoosh;
``opening`` says where the index lives and opens it; ``segments`` and
``writer`` are how the files are written fast.

The index lives in ``<archive>/index/`` (derived, never committed). Next to
Whoosh's files it keeps ``kexue-index.json`` (the schema version, folding
table, mean field lengths and segments: what a search reads) and
``digests.json`` (a digest of what was indexed for each record id).
:func:`update` compares the records with those digests and touches only
records that changed or disappeared (their documents, found by id, are
deleted and the changed ones added in one commit); it rebuilds from scratch
only when the index is missing, unreadable, of another schema version, or
built with another traditional -> simplified table. Because the index keeps
its own digests, a build interrupted before the index was updated is
repaired by the next one.

How a query is answered (see ``query`` for the language, ``matching`` for
the evaluation): every term is folded and turned into index terms
(``analysis.query_terms``). A single index term is answered by its postings;
anything longer by the documents having its rarest term, whose folded text
(kept in a column of the index) is then searched for the term itself. The
query tree is evaluated as sets of documents, the filters applied, and the
survivors ranked: title matches first, then BM25F (title boosted), or by
date/readers.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..analysis import BigramAnalyzer, opencc_version, t2s_table
from ..query import DEFAULT_FIELDS
from .opening import (
    DIGESTS,
    META,
    NUMERIC_COLUMNS,
    SCHEMA_VERSION,
    TEXT_FIELDS,
    TITLE_BOOST,
    index_dir,
    load_whoosh,
    open_index,
    open_snapshot,
    read_meta,
    whoosh_files,
)
from .reading import DamagedIndex, SegmentInfo, Snapshot
from .searching import SORTS, Hit, Results, page_path, search

if TYPE_CHECKING:
    from ..progress import Progress
    from ..records import Article

#: The API: updating (here) and searching (``searching``) the index.
__all__ = [
    "DEFAULT_FIELDS", "SCHEMA_VERSION", "SORTS", "TEXT_FIELDS", "Hit", "IndexResult", "Results",
    "index_articles", "index_dir", "page_path", "search", "update", "updating",
]


class IndexResult(NamedTuple):
    added: int
    updated: int
    removed: int
    rebuilt: bool


# -- the schema and the documents ----------------------------------------------------

def _schema(analyzer: BigramAnalyzer) -> Any:
    load_whoosh()
    from whoosh import fields as f
    from whoosh.columns import NumericColumn, VarBytesColumn

    from .segments import FOLDED, TermCounts

    def text(boost: float = 1.0) -> Any:
        field = f.TEXT(analyzer=analyzer, stored=True, phrase=False, field_boost=boost)
        field.format = TermCounts(field_boost=boost)  # Whoosh's Frequency, fed in one call per value
        return field

    return f.Schema(
        id=f.ID(stored=True, unique=True, sortable=VarBytesColumn(write_offsets_cutoff=0)),  # (see the folded columns)
        title=text(TITLE_BOOST), excerpt=text(), math=text(), author=text(), date=f.STORED(), readers=f.STORED(),
        # Only read as columns (sorting, filters, BM25's lengths in characters), never searched: not indexed
        **{name: f.COLUMN(NumericColumn(typecode)) for name, typecode in NUMERIC_COLUMNS.items()},
        # Each text field's folded text, which decides phrases (the writer fills these)
        # (offsets written at any size: Whoosh otherwise derives them in a Python loop on every open)
        **{FOLDED.format(name): f.COLUMN(VarBytesColumn(write_offsets_cutoff=0)) for name in TEXT_FIELDS},
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

def update(
    root: Path, digests: Mapping[str, str], load: Callable[[Sequence[str]], Sequence[Article]], *, full: bool = False,
    progress: Progress | None = None,
) -> IndexResult:
    """Bring ``<root>/index`` in line with the archive, touching only what changed.

    ``digests`` maps every record id of the archive to a digest of its content
    (any string that changes when the record does: the build passes its record
    digests); ``load(ids)`` returns those articles. The ids whose digest differs
    from the one indexed are loaded and re-indexed, ids no longer present are
    deleted; everything is loaded when the index is missing, stale or ``full``.
    A build that changed nothing opens nothing but two small JSON files.
    Files found damaged while updating (changed in place, keeping their size
    and time) mean a rebuild from scratch.
    """
    try:
        return _update(root, digests, load, full=full, progress=progress)
    except DamagedIndex:
        return _update(root, digests, load, full=True, progress=progress)


@contextmanager
def updating(
    root: Path, digests: Mapping[str, str], load: Callable[[Sequence[str]], Sequence[Article]], *, full: bool = False,
    progress: Progress | None = None,
) -> Iterator[Callable[[], IndexResult]]:
    """:func:`update`, with an incremental update written by a forked child while the caller goes on
    (a build draws its site meanwhile: the index's ~0.1 s of Python runs on the other core).

    Yields a function that waits for the result. The changed records are loaded
    here first (``load`` may read a database, which a child must not touch); a
    child that fails has the update done here again, which reports what went
    wrong. Leaving early (an error) stops the child, as does this process dying:
    the index then stays as it was, or as the child committed it, and its digests
    say which. A rebuild from scratch is written here, already on two cores, and
    shows ``progress`` (a child shows none: its terminal is the caller's).
    """
    try:
        step = _plan(root, digests, load, full=full)
    except DamagedIndex:
        step = _plan(root, digests, load, full=True)
    if isinstance(step, IndexResult):  # nothing changed (Whoosh is not imported)
        unchanged = step
        yield lambda: unchanged
        return
    from .writer import can_fork, forked, stop

    if step.result.rebuilt or not can_fork():
        done = _applied(root, digests, load, step, progress)
        del step  # its documents: not kept while the caller goes on (a full build's are ~170 MB at 10k)
        yield lambda: done
        return
    child, expected = forked(functools.partial(_apply, root, digests, step)), step.result
    step.ix.close()  # the child has its own copies, and the documents
    if step.opened is not None:
        step.opened.close()
    del step
    outcome: list[IndexResult] = []

    def wait() -> IndexResult:
        if not outcome:
            ok = os.waitpid(child, 0)[1] == 0
            outcome.append(expected if ok else update(root, digests, load, progress=progress))
        return outcome[0]

    try:
        yield wait
    finally:
        if not outcome:
            stop(child)


def _applied(
    root: Path, digests: Mapping[str, str], load: Callable[[Sequence[str]], Sequence[Article]], job: _Job,
    progress: Progress | None,
) -> IndexResult:
    try:
        return _apply(root, digests, job, progress)
    except DamagedIndex:
        return _update(root, digests, load, full=True, progress=progress)


def _update(
    root: Path, digests: Mapping[str, str], load: Callable[[Sequence[str]], Sequence[Article]], *, full: bool,
    progress: Progress | None = None,
) -> IndexResult:
    step = _plan(root, digests, load, full=full)
    return step if isinstance(step, IndexResult) else _apply(root, digests, step, progress)


class _Job(NamedTuple):
    """An update worked out, ready to write: the open index and what goes in and out of it."""

    ix: Any
    opened: Snapshot | None  #: the index as it was (None when it is written afresh)
    docs: list[dict[str, Any]]  #: the documents of the changed ids
    doomed_ids: list[str]  #: the ids whose old documents go (removed and changed)
    result: IndexResult


def _plan(
    root: Path, digests: Mapping[str, str], load: Callable[[Sequence[str]], Sequence[Article]], *, full: bool,
) -> IndexResult | _Job:
    """The result, when nothing changed; else the job, with the changed records loaded (the only use of ``load``)."""
    known, noted = (None, None) if full else _known(root)
    files = whoosh_files(root)
    if noted != files:
        known = None  # Whoosh's files changed behind our back (or a crash before we noted them): rebuild
    if known == dict(digests):
        return IndexResult(0, 0, 0, rebuilt=False)  # nothing changed: Whoosh is not even imported
    opened = None if known is None else open_snapshot(root, files)
    ix = None if opened is None else open_index(root)
    rebuilt = ix is None
    if ix is None or known is None:
        known, ix = {}, _create(root)
    changed = [i for i in sorted(digests) if known.get(i) != digests[i]]
    removed = sorted(set(known) - set(digests))
    added = sum(1 for i in changed if i not in known)
    docs = [_document(a) for a in load(changed)]
    snapshot = None if opened is None else opened[0]
    return _Job(ix, snapshot, docs, [*removed, *changed], IndexResult(added, len(changed) - added, len(removed), rebuilt))


def _apply(root: Path, digests: Mapping[str, str], job: _Job, progress: Progress | None = None) -> IndexResult:
    """Write ``job`` in one commit, then note the segments and ``digests`` (our two JSON files, last)."""
    ix = job.ix
    try:
        if job.docs or job.doomed_ids:
            # The documents of changed and removed ids, from the id postings (Whoosh's update_document
            # would open a searcher per call, and import its query machinery: ~90 ms)
            doomed = [] if job.opened is None else _documents_of(job.opened, job.doomed_ids)
            _write(ix, job.docs, doomed, fresh=job.result.rebuilt, progress=progress)
        segments = [SegmentInfo(s.segment_id(), s.doc_count_all(), frozenset(s.deleted_docs())) for s in ix._segments()]
        t2s = ix.schema["title"].analyzer.t2s
    finally:
        ix.close()
        if job.opened is not None:
            job.opened.close()
    from ..archive import atomic_write  # lazy: PyYAML is not needed to search

    files = whoosh_files(root)  # as the commit left them (our two JSON files are not among them)
    meta = {
        "schema": SCHEMA_VERSION, "opencc": opencc_version(), "averages": _averages(root, segments),
        "segments": [{"name": s.name, "docs": s.docs, "deleted": sorted(s.deleted)} for s in segments],
        "files": files, "t2s": dict(sorted(t2s.items())),
    }
    atomic_write(index_dir(root) / META, json.dumps(meta, ensure_ascii=False).encode())
    state = {"files": files, "digests": dict(sorted(digests.items()))}
    atomic_write(index_dir(root) / DIGESTS, json.dumps(state).encode())
    return job.result


def _averages(root: Path, segments: list[SegmentInfo]) -> dict[str, float]:
    """Mean length of each text field over the live documents, for BM25: summed here once, not
    by every search (a document replaced or removed stays in its segment until a merge: leaving
    it out keeps an updated index scoring exactly as one built afresh)."""
    snapshot = Snapshot(index_dir(root), segments, NUMERIC_COLUMNS)
    try:
        live = list(snapshot.all_doc_ids())
        columns = {f"{name}_len": snapshot.numbers(f"{name}_len") for name in TEXT_FIELDS}
        return {key: sum(map(column.__getitem__, live)) / max(1, len(live)) for key, column in columns.items()}
    finally:
        snapshot.close()


def _documents_of(snapshot: Snapshot, ids: list[str]) -> list[int]:
    return sorted({d for i in ids for d in snapshot.posting_list("id", i).ids})


def _known(root: Path) -> tuple[dict[str, str] | None, list[list[Any]] | None]:
    """The digests indexed and Whoosh's files then, or None when the index must be rebuilt."""
    meta = read_meta(root)
    if meta.get("schema") != SCHEMA_VERSION or meta.get("opencc") != opencc_version():
        return None, None
    try:
        state = json.loads((index_dir(root) / DIGESTS).read_text(encoding="utf-8"))
        return dict(state["digests"]), list(state["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def index_articles(root: Path, articles: Sequence[Article], *, full: bool = False) -> IndexResult:
    """:func:`update` for articles already in memory (tests, benchmarks, tools)."""
    by_id = {a.id: a for a in articles}
    digests = {i: _digest(_document(a)) for i, a in by_id.items()}
    return update(root, digests, lambda ids: [by_id[i] for i in ids], full=full)


def _create(root: Path) -> Any:
    load_whoosh()
    from whoosh import index as wix

    folder = index_dir(root)
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ix = wix.create_in(str(folder), _schema(BigramAnalyzer(t2s_table())))
    from ..archive import atomic_write

    atomic_write(folder / META, json.dumps({"schema": SCHEMA_VERSION, "opencc": opencc_version()}).encode())
    return ix


def _write(ix: Any, docs: list[dict[str, Any]], doomed: list[int], *, fresh: bool, progress: Progress | None) -> None:
    """Delete the ``doomed`` documents and add ``docs``, in one commit (a fresh index: on two cores)."""
    from .writer import FastSegmentWriter, write_new

    if fresh:
        write_new(ix, docs, progress)
        return
    writer = FastSegmentWriter(ix)
    try:
        for docnum in doomed:
            writer.delete_document(docnum)
        for doc in docs if progress is None else progress(docs, "indexing", len(docs)):
            writer.add_document(**doc)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
