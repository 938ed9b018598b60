"""Writing Whoosh segments fast: postings grouped by term as they arrive, written a block at a time.

Whoosh's own writer spends ~90% of indexing in pure Python *per posting*
(bench/RESULTS.md has the profile): every token goes through a generator and
two dicts (``Positions.word_values``), every posting is a tuple in a pool that
is sorted as a whole at commit, and the commit then calls four methods per
posting, one of which looks the document's length up in a column file. With
~460 postings per article that capped indexing at ~200 articles/s.

Here, through Whoosh's own extension points (a field ``Format``, a
``SegmentWriter`` subclass; the files written are Whoosh's, read by stock
Whoosh):

* :class:`TermPositions` is the text fields' format: one dict of positions per
  field value from :func:`analysis.term_positions`, encoded exactly as
  Whoosh's ``Positions`` encodes them (so stock readers decode them);
* :class:`TermPool` keeps, per (field, term), the posting list as three
  parallel arrays, in arrival order, which is document order: nothing to sort
  but the terms;
* :class:`FastSegmentWriter` writes each term's postings in blocks of the
  codec's size straight from those arrays, and skips the per-posting
  document-length lookups (they feed block statistics used only by Whoosh's
  own scorers; ``matching`` scores from its own length columns).

This module path is pickled into the index's schema (the format): keep it put,
and bump ``index.SCHEMA_VERSION`` when what it writes changes.
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import sys
import zlib
from array import array
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import accumulate, chain, islice, repeat
from operator import lt, sub
from typing import Any, NamedTuple

from whoosh import formats
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

#: zlib level of posting blocks: 1 compresses them ~1.5x faster than Whoosh's 3, ~5% larger.
COMPRESSION = 1
#: Fewer new documents than this are written by one process (a fork costs ~20 ms, 100 documents ~100 ms).
PARALLEL_MIN = 200
#: Fixed, not HIGHEST_PROTOCOL, so a newer Python writes the same index (and any Python 3 reads it).
PICKLE_PROTOCOL = 4

#: A posting's value: its positions as 4-byte little-endian integers (Whoosh's ``Positions``
#: pickles a list of gaps behind a count: ~3x the bytes, and a ``pickle.loads`` to read one).
_WIDTH = 4
_SWAP = sys.byteorder != "little"


def encode_positions(positions: list[int]) -> bytes:
    if len(positions) == 1:
        return positions[0].to_bytes(_WIDTH, "little")
    packed = array("I", positions)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def decode_positions(value: bytes) -> list[int]:
    if len(value) == _WIDTH:
        return [int.from_bytes(value, "little")]
    packed = array("I")
    packed.frombytes(value)
    if _SWAP:
        packed.byteswap()
    return packed.tolist()


class TermPositions(formats.Positions):  # type: ignore[misc]  # Whoosh is untyped
    """Whoosh's ``Positions`` format with a compact encoding (:func:`encode_positions`), fed by the
    analyzer's ``term_positions`` in one call per field value instead of a token stream."""

    def word_values(self, value: str, analyzer: Any, **_: Any) -> Any:
        boost = self.field_boost
        for term, positions in analyzer.term_positions(value).items():
            yield term, len(positions), len(positions) * boost, encode_positions(positions)

    def encode(self, positions: list[int]) -> bytes:
        return encode_positions(positions)

    def decode_positions(self, value: bytes) -> list[int]:
        return decode_positions(value)

    def decode_frequency(self, value: bytes) -> int:
        return len(value) // _WIDTH

    def decode_weight(self, value: bytes) -> float:
        return len(value) // _WIDTH * float(self.field_boost)

    def decode_position_boosts(self, value: bytes) -> list[tuple[int, float]]:
        return [(p, 1.0) for p in decode_positions(value)]


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
        get, to_bytes = terms.get, int.to_bytes
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
                values.append(to_bytes(positions[0], _WIDTH, "little"))
            else:
                weights.append(count * boost)
                values.append(encode_positions(positions))
        return length

    def cleanup(self) -> None:
        self.fields = {}


class FastPostingsWriter(W3PostingsWriter):  # type: ignore[misc]  # Whoosh is untyped
    """Whoosh's postings writer, its blocks pickled with protocol 4 instead of 2.

    Whoosh reads blocks with ``pickle.loads``, which takes any protocol; under
    protocol 2 every ``bytes`` value (a posting's positions) pickles as a call
    to ``_codecs.encode``, so a block of 128 postings took ~100 us to write and
    ~50 us to read back; protocol 4 takes ~7 and ~5 us and half the bytes.
    Otherwise this is ``W3PostingsWriter._write_block`` as it stands in 2.7.5.
    """

    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids = self._ids
        gaps = tuple(ids) if self._byteids else tuple(map(sub, ids, chain((0,), ids)))
        databytes = pickle.dumps((gaps, self._mini_weights(), self._mini_values()), PICKLE_PROTOCOL)
        if self._compression:
            databytes = zlib.compress(databytes, self._compression)
        lengths = length_to_byte(self._minlength), length_to_byte(self._maxlength)
        infobytes = pickle.dumps((len(ids), ids[-1], self._maxweight, self._compression, *lengths), PICKLE_PROTOCOL)
        size = len(infobytes) + len(databytes)
        self._postfile.write_int(-size if last else size)  # a negative size marks a term's last block
        self._postfile.write(infobytes)
        self._postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


class FastCodec(W3Codec):  # type: ignore[misc]  # Whoosh is untyped
    """Whoosh's codec (the same files) writing through :class:`FastPostingsWriter`; pickled in the index's table of contents."""

    def __init__(self) -> None:
        super().__init__(compression=COMPRESSION)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> FastPostingsWriter:
        return FastPostingsWriter(
            dbfile, blocklimit=self._blocklimit, byteids=byteids, compression=self._compression, inlinelimit=self._inlinelimit,
        )


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
    except BaseException:
        writer.cancel()
        if child is not None:
            os.kill(child[0], signal.SIGKILL)
            os.waitpid(child[0], 0)
        raise
    writer.commit_with(lambda: _collect(child, ix, docs[split:]) if child is not None else [])


def _fork_segment(ix: Any, docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Start a child writing ``docs`` as one segment; (its pid, the pipe its segment will come through)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    status = 1
    try:  # the child: never returns, never runs the parent's exit handlers
        os.close(read_end)
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


# -- reading ------------------------------------------------------------------------

class PostingList(NamedTuple):
    """A term's postings in document order: document numbers, weights (occurrences x field boost), values."""

    ids: list[int]
    weights: list[float]
    values: list[bytes]


def posting_list(reader: Any, fieldname: str, term: str) -> PostingList:
    """The whole posting list of ``term`` over every segment of ``reader``, deleted documents left out.

    Read a block at a time (one unpickle, then C-level ``accumulate``/``extend``)
    instead of through Whoosh's matcher, which makes several Python calls per
    posting: a query touching thousands of documents spent most of its time there.
    """
    tbytes = term.encode()
    found = PostingList([], [], [])
    for leaf, base in reader.leaf_readers():
        if (fieldname, tbytes) not in leaf:
            continue
        matcher = leaf._terms.matcher(fieldname, tbytes, leaf.schema[fieldname].format)
        part = _blocks(matcher, base) if isinstance(matcher, W3LeafMatcher) else _one_by_one(matcher, base)
        deleted = leaf.deleted_docs_set
        if deleted:
            kept = [k for k, docnum in enumerate(part.ids) if docnum - base not in deleted]
            part = PostingList([part.ids[k] for k in kept], [part.weights[k] for k in kept], [part.values[k] for k in kept])
        found.ids.extend(part.ids)
        found.weights.extend(part.weights)
        found.values.extend(part.values)
    return found


def _blocks(m: Any, base: int) -> PostingList:
    found = PostingList([], [], [])
    while True:
        m._read_data()
        gaps, weights, values = m._data
        found.ids.extend(islice(accumulate(gaps, initial=base), 1, None))
        if weights is None or isinstance(weights, float):
            found.weights.extend(repeat(1.0 if weights is None else weights, len(gaps)))
        else:
            found.weights.extend(weights)
        found.values.extend(values)
        if m._lastblock:
            return found
        m._goto(m._nextoffset)


def _one_by_one(m: Any, base: int) -> PostingList:
    """Any other matcher (a term inlined in the term table): through Whoosh's interface."""
    found = PostingList([], [], [])
    while m.is_active():
        found.ids.append(base + m.id())
        found.weights.append(m.weight())
        found.values.append(m.value())
        m.next()
    return found


@lru_cache(maxsize=1 << 16)
def shifted_positions(value: bytes, shift: int) -> frozenset[int]:
    """The positions a posting's value holds, each minus ``shift`` (a phrase's k-th term sits at start + k).

    Cached: the same value (one position, most often) recurs in many documents.
    """
    if len(value) == _WIDTH:
        return frozenset((int.from_bytes(value, "little") - shift,))
    return frozenset(p - shift for p in decode_positions(value))


def numeric_column(reader: Any, name: str) -> list[int]:
    """A numeric column of every document of ``reader`` at once, read as raw bytes.

    Whoosh's column reader seeks and unpacks once per document (``load()``
    too): ~4 us each, so ranking a few thousand matches by their lengths
    cost more than finding them.
    """
    values: list[int] = []
    for leaf, _ in reader.leaf_readers():
        column = leaf.column_reader(name, translate=False)
        part: array[int] = array(column._typecode)
        part.frombytes(column._dbfile.get(column._basepos, column._count * column._fixedlen))
        if sys.byteorder == "little":
            part.byteswap()  # Whoosh packs columns big-endian ("!")
        values.extend(part)
        values.extend(repeat(column._default, leaf.doc_count_all() - len(part)))
    return values
