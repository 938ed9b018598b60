"""Writing our Whoosh segments (``segments`` has their format): fast, and on two cores.

Whoosh's ``SegmentWriter`` pools every posting as a tuple, sorts them all at
commit, then makes four Python calls per posting, one of which looks the
document's length up in a column file. Here, through its extension points
(it stays Whoosh's writer: locking, deletions, merging, the table of contents):

* :class:`TermPool` keeps, per (field, term), the posting list as two
  arrays (documents, occurrences), in arrival order, which is document order:
  nothing to sort but the terms;
* :class:`FastSegmentWriter` analyses a text field in one call
  (``term_counts``) and writes each term's postings and term info in one call
  from those arrays (``segments.write_term``), without the per-posting length
  lookups (they feed block statistics only Whoosh's own scorers use;
  ``matching`` has its own lengths);
* :func:`write_new` writes a fresh index as two segments at once, the second
  in a forked child.

Only builds import this module (and ``whoosh.writing``); searches do not.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import random
import signal
from array import array
from collections.abc import Callable, Iterator, Sequence
from operator import lt
from typing import TYPE_CHECKING, Any

from whoosh.system import pack_ushort
from whoosh.writing import SegmentWriter

from ..analysis import term_counts
from .segments import FOLDED, FastCodec, TermCounts, add_terms, write_term

if TYPE_CHECKING:
    from ..progress import Progress

#: Fewer new documents than this are written by one process (a fork costs ~20 ms, 100 documents ~30 ms).
PARALLEL_MIN = 200


class TermPool:
    """The postings of one segment: per field, per term, the document numbers and (text fields)
    the occurrences, as two arrays in arrival order, which is document order: nothing to sort but
    the terms. Text fields' terms are kept as ``str`` (encoded once per term when written, not once
    per posting); other fields' terms as Whoosh gives them, ``bytes``.
    """

    def __init__(self, counted: set[str]) -> None:
        self.counted = counted
        self.fields: dict[str, dict[Any, tuple[array[int], array[int] | None]]] = {}

    def add(self, item: tuple[str, bytes, int, float, bytes]) -> None:
        """One posting (field, term, document, weight, value): Whoosh's ``PostingPool.add`` (merges use it)."""
        fieldname, tbytes, docnum, _, vbytes = item
        terms = self.fields.setdefault(fieldname, {})
        counted = fieldname in self.counted
        term = tbytes.decode() if counted else tbytes
        lists = terms.get(term)
        if lists is None:
            lists = terms[term] = (array("I"), array("I") if counted else None)
        lists[0].append(docnum)
        if lists[1] is not None:
            lists[1].append(int.from_bytes(vbytes, "big"))  # TermCounts' value: the occurrences

    def add_counts(self, fieldname: str, docnum: int, found: dict[str, int]) -> None:
        """A document's postings in one text field from its terms' counts.

        The hot loop of indexing (once per distinct term of every field of every document).
        """
        terms = self.fields.setdefault(fieldname, {})
        get = terms.get
        for term, times in found.items():
            lists = get(term)
            if lists is None:
                lists = terms[term] = (array("I"), array("I"))
            lists[0].append(docnum)
            lists[1].append(times)  # type: ignore[union-attr]  # text fields always count

    def cleanup(self) -> None:
        self.fields = {}


class FastSegmentWriter(SegmentWriter):  # type: ignore[misc]  # Whoosh is untyped
    """A ``SegmentWriter`` whose pool is a :class:`TermPool` and whose flush writes whole terms."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        # compound=False: opening a compound segment copies it whole into memory (BytesIO), 60 ms at 10k
        super().__init__(ix, codec=FastCodec(), compound=False, **kwargs)
        unused: Any = self.pool  # Whoosh's sorting pool, made by the constructor
        unused.cleanup()
        self.pool: TermPool = TermPool({name for name, field in self.schema.items() if isinstance(field.format, TermCounts)})

    def add_document(self, **fields: Any) -> None:
        """Whoosh's ``add_document`` (boosts and vectors left out: the schema has none), with text
        fields analysed in one call and pooled term by term instead of token by token; each text
        field's folded text goes to its column (:data:`segments.FOLDED`), for phrases."""
        self._check_state()
        schema, pdw, docnum = self.schema, self.perdocwriter, self.docnum
        self._check_fields(schema, fields)
        pdw.start_doc(docnum)
        try:
            for name in sorted(fields):
                value, field = fields[name], schema[name]
                if value is None:
                    continue
                length = 0
                if isinstance(field.format, TermCounts):
                    folded = field.analyzer.fold(value)
                    found = term_counts(folded)
                    self.pool.add_counts(name, docnum, found)
                    length = sum(found.values())
                    column = FOLDED.format(name)
                    pdw.add_column_value(column, schema[column].column_type, folded.encode())
                elif field.indexed:
                    for tbytes, freq, weight, vbytes in field.index(value):
                        length += freq if field.scorable else 0
                        self.pool.add((name, tbytes, docnum, weight, vbytes))
                pdw.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    pdw.add_column_value(name, field.column_type, field.to_column_value(value))
        except BaseException:
            pdw.cancel_doc()
            raise
        pdw.finish_doc()
        self._added = True
        self.docnum += 1

    def commit_with(self, others: Callable[[], list[Any]]) -> None:
        """Finish this writer's new segment, then commit it with the segments ``others()`` returns
        (written meanwhile by other processes), all unmerged."""
        self._check_state()
        segments = self._merge_segments(None, False, False)  # merge=False: the segments as they are
        own = self._finalize_segment()
        self._commit_toc([*segments, *others(), own])
        self._finish()

    def _flush_segment(self) -> None:
        """The terms table and postings of the pool, a term per :func:`segments.write_term` call."""
        self.perdocwriter.close()
        fw = self.fieldwriter
        for fieldname, terms in sorted(self.pool.fields.items()):
            field = self.schema[fieldname]
            fw.start_field(fieldname, field)
            prefix, postfile = pack_ushort(fw._fieldid), fw._postfile
            boost = float(field.format.field_boost)
            infos = []
            for term in sorted(terms):  # str sorts as its UTF-8 bytes do
                ids, counts = _in_order(*terms[term])
                key = prefix + (term.encode() if isinstance(term, str) else term)
                infos.append((key, write_term(postfile, ids, counts, boost)))
            add_terms(fw._tindex, infos)
            fw.finish_field()
        fw.close()


def _in_order(ids: array[int], counts: array[int] | None) -> tuple[array[int], array[int] | None]:
    """A term's postings by document number (merged segments may arrive out of order)."""
    if all(map(lt, ids, ids[1:])):
        return ids, counts
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return array("I", map(ids.__getitem__, order)), None if counts is None else array("I", map(counts.__getitem__, order))


def write_new(ix: Any, docs: Sequence[dict[str, Any]], progress: Progress | None = None) -> None:
    """Add ``docs`` to ``ix`` as new documents, in two segments written at once when that pays.

    A full build's indexing is CPU-bound Python, one core's worth: a forked
    child writes the second half as a segment of its own while this process
    writes the first, then one commit lists both (Whoosh's multi-segment
    layout; ``MpWriter`` does the same but pickles every document to its
    workers). This process finishes its own segment before it waits for the
    child's. If the child fails, this process writes the child's half too.
    ``progress`` is shown for all of ``docs``, ticked by this process for both.
    """
    split = len(docs) // 2 if len(docs) >= PARALLEL_MIN and can_fork() else len(docs)
    child = _fork_segment(ix, docs[split:]) if split < len(docs) else None
    writer = FastSegmentWriter(ix)
    try:
        for doc in docs[:split] if progress is None else _ticking(progress, docs, split):
            writer.add_document(**doc)
        writer.commit_with(lambda: _collect(child, ix, docs[split:]) if child is not None else [])
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        if child is not None:
            stop(child[0])
        raise


def _ticking(progress: Progress, docs: Sequence[dict[str, Any]], split: int) -> Iterator[dict[str, Any]]:
    """``docs[:split]``, ticking ``progress`` for all of ``docs``: a child writing the rest
    (when ``split`` leaves any) writes one as this process writes one."""
    ticks = iter(progress(range(len(docs)), "indexing", len(docs)))
    per = 1 if split == len(docs) else 2
    for doc in docs[:split]:
        yield doc
        for _ in range(per):
            next(ticks, None)
    for _ in ticks:  # the last of the child's, if it has one more
        pass


def _fork_segment(ix: Any, docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Start a child writing ``docs`` as one segment; (its pid, the pipe its segment will come through)."""
    read_end, write_end = os.pipe()

    def work() -> None:
        os.close(read_end)
        writer = FastSegmentWriter(ix, _lk=False)  # the parent holds the index's lock
        for doc in docs:
            writer.add_document(**doc)
        segment = writer._finalize_segment()  # its temporary folder is the parent's too: left for the parent to remove
        with os.fdopen(write_end, "wb") as out:
            out.write(pickle.dumps(segment))

    pid = forked(work)
    os.close(write_end)
    return pid, read_end


def can_fork() -> bool:
    """Whether a forked child pays: it can be made, and a second core this process may use runs it."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return hasattr(os, "fork") and cores > 1


def forked(work: Callable[[], object]) -> int:
    """The pid of a forked child running ``work``, which exits 0 when ``work`` returns and 1
    when it raises (silently: the parent does that work again itself, and reports)."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:  # the child: never returns, never runs the parent's exit handlers
        _die_with(parent)
        random.seed()  # Whoosh names segments with `random`: not the same names as the parent's
        work()
        status = 0
    finally:
        os._exit(status)


def _die_with(parent: int) -> None:
    """Have the kernel kill this child when the build that forked it dies (Linux), so a
    killed build leaves nothing writing into the index, nor holding its inherited lock."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # elsewhere the child finishes its segment, which no table of contents lists
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the line above took effect


def stop(pid: int) -> None:
    """Kill and reap a child that may be gone already."""
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _collect(child: tuple[int, int], ix: Any, docs: Sequence[dict[str, Any]]) -> list[Any]:
    """The segment the child wrote; if it failed after all, a segment of its documents written here."""
    pid, read_end = child
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    if os.waitpid(pid, 0)[1] == 0 and data:
        return [pickle.loads(data)]
    writer = FastSegmentWriter(ix, _lk=False)  # the lock is held by the writer committing
    for doc in docs:
        writer.add_document(**doc)
    return [writer._finalize_segment()]
