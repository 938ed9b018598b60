"""Our Whoosh segments' file format, and reading it fast.

Whoosh's own code spends ~90% of indexing, and most of a query touching
thousands of documents, in pure Python *per posting* (bench/RESULTS.md has
the profiles). This module keeps Whoosh's files and changes what is cheap to
change through Whoosh's extension points; ``writer`` writes these files:

* :class:`TermPositions`, the text fields' format: a posting's positions as
  4-byte integers (not a pickled gap list), and one dict of positions per
  field value from :func:`analysis.term_positions` instead of a token stream;
* :class:`FastCodec`, Whoosh's codec whose posting blocks are pickled with
  protocol 4 (Whoosh's protocol 2 pickles every ``bytes`` value as a call);
* :func:`posting_list`, a term's whole posting list read a block at a time;
  :func:`decode_positions`, a posting's positions;
  :func:`numeric_column`, a whole column as one array.

The schema and the table of contents pickle ``TermPositions`` and
``FastCodec`` by this module path: keep it put, and bump
``index.SCHEMA_VERSION`` when what is written changes.
"""

from __future__ import annotations

import pickle
import sys
import zlib
from array import array
from itertools import accumulate, chain, islice, repeat
from operator import sub
from typing import Any, NamedTuple

from whoosh import formats
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.util.numeric import length_to_byte

#: Postings in a block (Whoosh: 128). Searches read whole posting lists, never skip inside one, so
#: larger blocks only save work: ~30 us of seeking, decompressing and unpickling per block.
BLOCK = 1024
#: zlib level of posting blocks: 1 compresses them ~1.5x faster than Whoosh's 3, ~5% larger.
COMPRESSION = 1
#: Blocks smaller than this (a term in a few documents) are stored as they are: zlib saves them little.
COMPRESS_MIN = 512
#: Fixed, not HIGHEST_PROTOCOL, so a newer Python writes the same index (and any Python 3 reads it).
PICKLE_PROTOCOL = 4

#: A posting's value: its positions as 4-byte little-endian integers (Whoosh's ``Positions``
#: pickles a list of gaps behind a count: ~3x the bytes, and a ``pickle.loads`` to read one).
WIDTH = 4
_SWAP = sys.byteorder != "little"


def encode_positions(positions: list[int]) -> bytes:
    if len(positions) == 1:
        return positions[0].to_bytes(WIDTH, "little")
    packed = array("I", positions)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def decode_positions(value: bytes) -> list[int]:
    if len(value) == WIDTH:
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
        return len(value) // WIDTH

    def decode_weight(self, value: bytes) -> float:
        return len(value) // WIDTH * float(self.field_boost)

    def decode_position_boosts(self, value: bytes) -> list[tuple[int, float]]:
        return [(p, 1.0) for p in decode_positions(value)]


class FastPostingsWriter(W3PostingsWriter):  # type: ignore[misc]  # Whoosh is untyped
    """Whoosh's postings writer, its blocks pickled with protocol 4 instead of 2, small ones not compressed.

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
        databytes = pickle.dumps((gaps, _packed_weights(self._weights), self._mini_values()), PICKLE_PROTOCOL)
        level = self._compression if len(databytes) >= COMPRESS_MIN else 0  # each block says its own level
        if level:
            databytes = zlib.compress(databytes, level)
        lengths = length_to_byte(self._minlength), length_to_byte(self._maxlength)
        infobytes = pickle.dumps((len(ids), ids[-1], self._maxweight, level, *lengths), PICKLE_PROTOCOL)
        size = len(infobytes) + len(databytes)
        self._postfile.write_int(-size if last else size)  # a negative size marks a term's last block
        self._postfile.write(infobytes)
        self._postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


def _packed_weights(weights: array[float]) -> Any:
    """Whoosh's ``_mini_weights`` checked in C: None when all are 1.0, the one value when all are equal, else a tuple."""
    first = weights[0]
    if weights.count(first) != len(weights):
        return tuple(weights)
    return None if first == 1.0 else first


class FastCodec(W3Codec):  # type: ignore[misc]  # Whoosh is untyped
    """Whoosh's codec (the same files) writing through :class:`FastPostingsWriter`; pickled in the index's table of contents."""

    def __init__(self) -> None:
        super().__init__(blocklimit=BLOCK, compression=COMPRESSION)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> FastPostingsWriter:
        return FastPostingsWriter(
            dbfile, blocklimit=self._blocklimit, byteids=byteids, compression=self._compression, inlinelimit=self._inlinelimit,
        )


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
