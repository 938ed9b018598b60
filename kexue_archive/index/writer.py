"""Writing our Whoosh segments (``segments`` has their format): fast, and on two cores.

Whoosh's ``SegmentWriter`` pools every posting as a tuple, sorts them all at
commit, then makes four Python calls per posting, one of which looks the
document's length up in a column file. Here, through its extension points
(it stays Whoosh's writer: locking, deletions, merging, the table of contents):

* :class:`TermPool` keeps, per (field, term), the posting list as three
  parallel arrays, in arrival order, which is document order: nothing to sort
  but the terms;
* :class:`FastSegmentWriter` analyses a text field in one call
  (``term_positions``) and writes each term's postings in whole blocks from
  those arrays, without the per-posting length lookups (they feed block
  statistics only Whoosh's own scorers use; ``matching`` has its own lengths);
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
from collections.abc import Callable, Sequence
from operator import lt
from typing import Any

from whoosh.writing import SegmentWriter

from .segments import WIDTH, FastCodec, TermPositions, encode_positions

#: The value of a posting at one position, shared by every posting there: most postings are
#: one occurrence, and a ``bytes`` object each would be ~60% of the pool's memory.
_SINGLES = 1 << 14
_SINGLE = [p.to_bytes(WIDTH, "little") for p in range(_SINGLES)]
#: Fewer new documents than this are written by one process (a fork costs ~20 ms, 100 documents ~100 ms).
PARALLEL_MIN = 200


class TermPool:
    """The postings of one segment: per field, per term, three parallel lists in document order.

    Text fields' terms are kept as ``str`` (encoded once per term when written,
    not once per posting); other fields' terms as Whoosh gives them, ``bytes``.
    """

    def __init__(self, text_fields: set[str]) -> None:
        self.text_fields = text_fields
        self.fields: dict[str, dict[Any, tuple[array[int], array[float], list[bytes]]]] = {}

    def _lists(self, fieldname: str, term: str | bytes) -> tuple[array[int], array[float], list[bytes]]:
        terms = self.fields.setdefault(fieldname, {})
        lists = terms.get(term)
        if lists is None:
            lists = terms[term] = (array("I"), array("f"), [])
        return lists

    def add(self, item: tuple[str, bytes, int, float, bytes]) -> None:
        """One posting (field, term, document, weight, value): Whoosh's ``PostingPool.add`` (merges use it)."""
        fieldname, tbytes, docnum, weight, vbytes = item
        ids, weights, values = self._lists(fieldname, tbytes.decode() if fieldname in self.text_fields else tbytes)
        ids.append(docnum)
        weights.append(weight)
        values.append(vbytes)

    def add_positions(self, fieldname: str, docnum: int, boost: float, found: dict[str, list[int]]) -> int:
        """A document's postings in one text field from its terms' positions; returns the field's length.

        The hot loop of indexing (once per distinct term of every field of every document).
        """
        terms = self.fields.setdefault(fieldname, {})
        get, single = terms.get, _SINGLE
        length = 0
        for term, positions in found.items():
            lists = get(term)
            if lists is None:
                lists = terms[term] = (array("I"), array("f"), [])
            ids, weights, values = lists
            ids.append(docnum)
            count = len(positions)
            length += count
            if count == 1:
                weights.append(boost)
                values.append(single[positions[0]] if positions[0] < _SINGLES else encode_positions(positions))
            else:
                weights.append(count * boost)
                values.append(encode_positions(positions))
        return length

    def cleanup(self) -> None:
        self.fields = {}


class FastSegmentWriter(SegmentWriter):  # type: ignore[misc]  # Whoosh is untyped
    """A ``SegmentWriter`` whose pool is a :class:`TermPool` and whose flush writes whole blocks."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        # compound=False: opening a compound segment copies it whole into memory (BytesIO), 60 ms at 10k
        super().__init__(ix, codec=FastCodec(), compound=False, **kwargs)
        unused: Any = self.pool  # Whoosh's sorting pool, made by the constructor
        unused.cleanup()
        self.pool: TermPool = TermPool({name for name, field in self.schema.items() if isinstance(field.format, TermPositions)})

    def add_document(self, **fields: Any) -> None:
        """Whoosh's ``add_document`` (boosts and vectors left out: the schema has none), with text
        fields analysed in one call and pooled term by term instead of token by token."""
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
                if isinstance(field.format, TermPositions):
                    found = field.analyzer.term_positions(value)
                    length = self.pool.add_positions(name, docnum, field.format.field_boost, found)
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
        self.perdocwriter.close()
        fw = self.fieldwriter
        for fieldname, terms in sorted(self.pool.fields.items()):
            fw.start_field(fieldname, self.schema[fieldname])
            for term in sorted(terms):  # str sorts as its UTF-8 bytes do
                fw.start_term(term.encode() if isinstance(term, str) else term)
                _write_postings(fw._postwriter, *terms[term])
                fw.finish_term()
            fw.finish_field()
        fw.close()


def _write_postings(pw: Any, ids: array[int], weights: array[float], values: list[bytes]) -> None:
    """One term's postings as the codec's blocks: all but the last written here, the last by ``finish_term``."""
    if not all(map(lt, ids, ids[1:])):  # merged segments may arrive out of order
        order = sorted(range(len(ids)), key=ids.__getitem__)
        ids, weights = array("I", (ids[i] for i in order)), array("f", (weights[i] for i in order))
        values = [values[i] for i in order]
    size = pw._blocklimit
    for start in range(0, len(ids), size):
        pw._ids, pw._weights, pw._values = ids[start:start + size], weights[start:start + size], values[start:start + size]
        pw._maxweight = max(pw._weights)
        if start + size < len(ids):
            pw._write_block()


def write_new(ix: Any, docs: Sequence[dict[str, Any]]) -> None:
    """Add ``docs`` to ``ix`` as new documents, in two segments written at once when that pays.

    A full build's indexing is CPU-bound Python, one core's worth: a forked
    child writes the second half as a segment of its own while this process
    writes the first, then one commit lists both (Whoosh's multi-segment
    layout; ``MpWriter`` does the same but pickles every document to its
    workers). This process finishes its own segment before it waits for the
    child's. If the child fails, this process writes the child's half too.
    """
    split = len(docs) // 2 if len(docs) >= PARALLEL_MIN and hasattr(os, "fork") and (os.cpu_count() or 1) > 1 else len(docs)
    child = _fork_segment(ix, docs[split:]) if split < len(docs) else None
    writer = FastSegmentWriter(ix)
    try:
        for doc in docs[:split]:
            writer.add_document(**doc)
        writer.commit_with(lambda: _collect(child, ix, docs[split:]) if child is not None else [])
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        if child is not None:
            _stop(child[0])
        raise


def _fork_segment(ix: Any, docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Start a child writing ``docs`` as one segment; (its pid, the pipe its segment will come through)."""
    parent = os.getpid()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    status = 1
    try:  # the child: never returns, never runs the parent's exit handlers
        os.close(read_end)
        _die_with(parent)
        random.seed()  # Whoosh names segments with `random`: not the same names as the parent's
        writer = FastSegmentWriter(ix, _lk=False)  # the parent holds the index's lock
        for doc in docs:
            writer.add_document(**doc)
        segment = writer._finalize_segment()  # its temporary folder is the parent's too: left for the parent to remove
        with os.fdopen(write_end, "wb") as out:
            out.write(pickle.dumps(segment))
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


def _stop(pid: int) -> None:
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
