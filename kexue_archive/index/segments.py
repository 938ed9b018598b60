"""Our Whoosh segments' file format, and reading it fast.

Whoosh's own code spends ~90% of indexing, and most of a query touching
thousands of documents, in pure Python *per posting* (bench/RESULTS.md has
the profiles). This module keeps Whoosh's files and changes what is cheap to
change through Whoosh's extension points; ``writer`` writes these files:

* :class:`TermCounts`, the text fields' format: Whoosh's ``Frequency`` (a
  posting is a document and how often the term occurs there: no positions),
  fed one dict of counts per field value (:func:`analysis.term_counts`)
  instead of a token stream. Phrases are checked against the folded text,
  which each text field keeps in a column (:data:`FOLDED`);
* :func:`write_term`, a term's postings written as Whoosh's blocks and term
  info in one call: whole blocks pickled with protocol 4 (Whoosh's protocol 2
  pickles every ``bytes`` as a call), no per-posting Python;
* ``reading`` reads these files back without importing Whoosh.

The schema and the table of contents pickle ``TermCounts`` and
``FastCodec`` by this module path: keep it put, and bump
``index.SCHEMA_VERSION`` when what is written changes.
"""

from __future__ import annotations

import pickle
import sys
import zlib
from array import array
from itertools import chain, repeat
from operator import mul, sub
from typing import Any

from whoosh import formats
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3TermInfo
from whoosh.filedb.filetables import _lengths as _KEY_VALUE_LENGTHS
from whoosh.system import pack_int, pack_long
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
#: The column holding a text field's folded text (UTF-8), which decides phrases.
FOLDED = "{}_folded"

_BIG_ENDIAN = sys.byteorder == "big"
#: What Whoosh's block statistics say of document lengths: we do not track them (``matching`` has its own).
_NO_LENGTH = length_to_byte(None), length_to_byte(0)


class TermCounts(formats.Frequency):  # type: ignore[misc]  # Whoosh is untyped
    """Whoosh's ``Frequency`` format (weight = occurrences x field boost, value = occurrences as a
    4-byte integer), fed by the analyzer's ``term_counts`` in one call per field value."""

    def word_values(self, value: str, analyzer: Any, **_: Any) -> Any:
        boost = self.field_boost
        for term, times in analyzer.term_counts(value).items():
            yield term, times, times * boost, times.to_bytes(4, "big")


class FastCodec(W3Codec):  # type: ignore[misc]  # Whoosh is untyped
    """Whoosh's codec with our block size and compression; pickled in the index's table of contents.

    Posting blocks are written by :func:`write_term`, not by the codec's postings writer."""

    def __init__(self) -> None:
        super().__init__(blocklimit=BLOCK, compression=COMPRESSION)


# -- writing ------------------------------------------------------------------------

def write_term(postfile: Any, ids: array[int], counts: array[int] | None, boost: float) -> bytes:
    """Write one term's postings (ids ascending) as Whoosh's blocks; return its term info bytes.

    ``counts`` is None for a field without values (Whoosh's ``Existence``: ids,
    field, year), else each posting's occurrences. What ``W3PostingsWriter``
    and ``W3TermInfo`` would write, minus the per-posting calls: blocks of
    :data:`BLOCK`, ``(gaps, weights, values)`` pickled (weights None when all
    are 1.0, one float when all are equal, else an ``array``), a negative size
    marking a term's last block. Document lengths are not tracked (0 / None).
    """
    chunks: list[bytes] = [WHOOSH3_HEADER_MAGIC]  # the term's blocks, written at once
    total, maxweight = 0.0, 0.0
    for at in range(0, len(ids), BLOCK):
        block = ids[at:at + BLOCK]
        if counts is None:
            weights: array[float] = array("f", repeat(boost, len(block)))
            values = None
        else:
            part = counts[at:at + BLOCK]
            weights = array("f", part if boost == 1.0 else map(mul, part, repeat(boost)))
            if not _BIG_ENDIAN:
                part = array("I", part)
                part.byteswap()  # Frequency's values are Whoosh's pack_uint: big-endian
            values = part.tobytes()
        top = max(weights)
        total += sum(weights)
        maxweight = max(maxweight, top)
        gaps = tuple(map(sub, block, chain((0,), block)))
        data = pickle.dumps((gaps, _packed(weights), values), PICKLE_PROTOCOL)
        level = COMPRESSION if len(data) >= COMPRESS_MIN else 0  # each block says its own level
        if level:
            data = zlib.compress(data, level)
        info = pickle.dumps((len(block), block[-1], top, level, *_NO_LENGTH), PICKLE_PROTOCOL)
        size = len(info) + len(data)
        chunks += (pack_int(size if at + BLOCK < len(ids) else -size), info, data)
    start = postfile.tell()
    postfile.write(b"".join(chunks))
    extent: bytes = pack_long(start) + pack_int(sum(map(len, chunks)))
    header: bytes = W3TermInfo._struct.pack(False, total, len(ids), *_NO_LENGTH, maxweight, ids[0], ids[-1])
    return header + extent


def add_terms(table: Any, items: list[tuple[bytes, bytes]]) -> None:
    """Whoosh's ``OrderedHashWriter.add`` for a field's (key, term info) pairs at once, keys
    ascending: the same bytes and hash buckets, one write instead of four calls per term."""
    if not items:
        return
    if items[0][0] <= table.lastkey:
        raise ValueError(f"keys must increase: {table.lastkey!r}..{items[0][0]!r}")
    position, hashed, buckets, index = table.dbfile.tell(), table.hashfn, table.buckets, table.index
    chunks: list[bytes] = []
    for key, value in items:
        index.append(position)
        code = hashed(key)
        buckets[code & 255].append((code, position))
        chunks += (_KEY_VALUE_LENGTHS.pack(len(key), len(value)), key, value)
        position += _KEY_VALUE_LENGTHS.size + len(key) + len(value)
    table.dbfile.write(b"".join(chunks))
    table.lastkey = items[-1][0]


def _packed(weights: array[float]) -> Any:
    """Whoosh's ``_mini_weights`` checked in C: None when all are 1.0, the one value when all are equal, else the array."""
    first = weights[0]
    if weights.count(first) != len(weights):
        return weights
    return None if first == 1.0 else first
