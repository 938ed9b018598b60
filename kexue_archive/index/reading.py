"""Reading the index's Whoosh files without importing Whoosh: all a search needs, from the files' bytes.

A cold search (a fresh process) spent 30-50 ms importing Whoosh (its
fields, analysis and codec modules) and unpickling its table of contents,
which needs those classes: a third of a cold ``kexue-archive search``. What
a search reads is small and fixed, all of it written by ``writer``/``segments``
in Whoosh 2.7's W3 format, so it is read here directly:

* the segments and their deleted documents: ``index.update`` copies them
  from Whoosh's table of contents into ``kexue-index.json`` after each commit,
  with the index files as they were then (a mismatch means "stale");
* a term's info, from the segment's ``.trm`` hash file (Whoosh's
  ``OrderedHashReader``): by binary search over its array of key positions;
* posting lists: the term's blocks in ``.pst``, each ``(gaps, weights,
  values)`` pickled and maybe zlib-compressed, read whole;
* columns (``.col``): fixed-size numbers; variable-length bytes with their
  lengths (and offsets) at the end of the file; stored fields as zlib-compressed
  pickles in such a column.

Files are mapped, not read: a search touches a few terms and a few
thousand documents' spans. ``tests/test_index_reading.py`` holds this
reader to stock Whoosh's on every term, column and stored field of a real index.
"""

from __future__ import annotations

import mmap
import pickle
import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from io import BytesIO
from itertools import accumulate, islice, repeat
from operator import add, getitem
from pathlib import Path
from typing import Any, NamedTuple

#: A W3 term info: flags (1 = postings inlined), total weight, document frequency, min/max length bytes,
#: max weight, first/last id; then the postings' (offset, length) in ``.pst``, or the inlined postings pickled.
_TERM_INFO = struct.Struct("!BfIBBfII")
_EXTENT = struct.Struct("!qi")
_KEY_VALUE_LENGTHS = struct.Struct("!ii")
_INT = struct.Struct("!i")
_FIELD_NUMBER = struct.Struct("!H")
_BLOCKS_MAGIC = b"W3Bl"
_HASH_MAGIC = b"HSH3"
_LITTLE = sys.byteorder == "little"
#: What reading damaged files raises (cut short, overwritten, foreign).
_BROKEN = (OSError, ValueError, IndexError, KeyError, TypeError, EOFError, struct.error, pickle.UnpicklingError,
           zlib.error)


class DamagedIndex(Exception):
    """The index's files are not what ``kexue-index.json`` says: cut short, overwritten or foreign."""


class PostingList(NamedTuple):
    """A term's postings in document order: document numbers, weights (occurrences x field boost)."""

    ids: list[int]
    weights: list[float]


class SegmentInfo(NamedTuple):
    """One Whoosh segment as ``kexue-index.json`` lists it: its file name prefix, its
    documents (deleted ones included) and the deleted ones' numbers within it."""

    name: str
    docs: int
    deleted: frozenset[int]


def _big_endian(typecode: str, data: bytes | memoryview) -> array[Any]:
    """Whoosh writes arrays big-endian."""
    values = array(typecode)
    values.frombytes(data)
    if _LITTLE and values.itemsize > 1:
        values.byteswap()
    return values


class _Mapped:
    """A file's bytes, mapped read-only (an empty file as empty bytes: it cannot be mapped)."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            self.data: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""

    def close(self) -> None:
        if isinstance(self.data, mmap.mmap):
            self.data.close()


class _Keys:
    """The ordered keys of a hash file, as a sequence ``bisect`` can search (each read when compared)."""

    def __init__(self, data: Any, positions: array[int]) -> None:
        self.data, self.positions = data, positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, k: int) -> bytes:
        return self.key_and_value(self.positions[k])[0]

    def key_and_value(self, pos: int) -> tuple[bytes, bytes]:
        keylen, valuelen = _KEY_VALUE_LENGTHS.unpack_from(self.data, pos)
        start = pos + _KEY_VALUE_LENGTHS.size
        return self.data[start:start + keylen], self.data[start + keylen:start + keylen + valuelen]


class _Terms:
    """A segment's term table (``.trm``: Whoosh's ordered hash file), looked up by binary search.

    Layout: magic, hash type, two unused ints, (lengths, key, value) records in key
    order, 256 hash tables, their directory, a pickled dict of extras (the field
    numbers, the type and length of the key-position array), that array, and the
    length of the extras and array. Keys are a 2-byte field number, then the term.
    """

    def __init__(self, data: Any) -> None:
        if data[:4] != _HASH_MAGIC:
            raise ValueError(f"not a Whoosh term table: {bytes(data[:4])!r}")
        end = len(data) - _INT.size
        stream = BytesIO(data[end - _INT.unpack_from(data, end)[0]:end])
        extras = pickle.load(stream)
        self.fields: dict[str, int] = extras["fieldmap"]
        positions = _big_endian(extras["indextype"], stream.read())
        if len(positions) != extras["indexlen"]:
            raise ValueError("term table cut short")
        self.keys = _Keys(data, positions)

    def info(self, field: str, term: str) -> bytes | None:
        number = self.fields.get(field)
        if number is None:
            return None
        key = _FIELD_NUMBER.pack(number) + term.encode()
        k = bisect_left(self.keys, key)
        if k == len(self.keys):
            return None
        found, value = self.keys.key_and_value(self.keys.positions[k])
        return value if found == key else None


class _Segment:
    """One segment's files, each mapped when first needed."""

    def __init__(self, folder: Path, info: SegmentInfo, base: int) -> None:
        self.folder, self.info, self.base = folder, info, base
        self.files: dict[str, _Mapped] = {}
        self.spans: dict[str, tuple[array[int], array[int]]] = {}
        self._terms: _Terms | None = None

    def file(self, suffix: str) -> Any:
        if suffix not in self.files:
            self.files[suffix] = _Mapped(self.folder / f"{self.info.name}{suffix}")
        return self.files[suffix].data

    def column_file(self, name: str) -> Any | None:
        """A column's bytes, or None when the segment has no file for it: Whoosh writes a
        column's file only if some document has a value, so every value is the default."""
        try:
            return self.file(f".{name}.col")
        except FileNotFoundError:
            return None

    def var_bytes(self, name: str) -> tuple[Any, array[int], array[int]]:
        """A variable-length column's bytes, offsets and lengths."""
        data = self.file(f".{name}.col")
        if name not in self.spans:
            self.spans[name] = _var_bytes(data, self.info.docs)
        return (data, *self.spans[name])

    @property
    def terms(self) -> _Terms:
        if self._terms is None:
            self._terms = _Terms(self.file(".trm"))
        return self._terms

    def postings(self, info: bytes) -> PostingList:
        """A term's postings, numbered in the whole index, from its term info."""
        inlined, *_ = _TERM_INFO.unpack_from(info)
        if inlined:  # (ids, weights, values), ids absolute: Whoosh's own writer inlines a term of one posting
            ids, weights, _ = pickle.loads(info[_TERM_INFO.size:])
            return PostingList([self.base + i for i in ids], list(weights))
        offset, length = _EXTENT.unpack_from(info, _TERM_INFO.size)
        data = self.file(".pst")
        if data[offset:offset + 4] != _BLOCKS_MAGIC:
            raise ValueError(f"no posting blocks at {offset}")
        found = PostingList([], [])
        pos, end = offset + 4, offset + length
        while pos < end:
            size = _INT.unpack_from(data, pos)[0]
            stream = BytesIO(data[pos + 4:pos + 4 + abs(size)])
            count, _, _, compressed, _, _ = pickle.load(stream)
            raw = stream.read()
            gaps, weights, _ = pickle.loads(zlib.decompress(raw) if compressed else raw)
            found.ids.extend(islice(accumulate(gaps, initial=self.base), 1, None))
            if weights is None or isinstance(weights, float):
                found.weights.extend(repeat(1.0 if weights is None else weights, count))
            else:
                found.weights.extend(weights)
            pos += 4 + abs(size)
            if size < 0:
                break
        return found

    def close(self) -> None:
        for mapped in self.files.values():
            mapped.close()
        self.files.clear()
        self.spans.clear()
        self._terms = None


def _var_bytes(data: Any, docs: int) -> tuple[array[int], array[int]]:
    """The (offsets, lengths) of a Whoosh ``VarBytesColumn`` of ``docs`` values: the lengths (and,
    when the last byte is ``X``, the offsets) are arrays at the end, each typecode in a byte after them."""
    last = len(data) - 1
    code = chr(data[last])
    offsets = None
    if code == "X":
        code, offsets_code = chr(data[last - 2]), chr(data[last - 1])
        start = last - 2 - docs * struct.calcsize(offsets_code)
        offsets, last = _big_endian(offsets_code, data[start:last - 2]), start
    start = last - docs * struct.calcsize(code)
    lengths = _big_endian(code, data[start:last])
    if offsets is None:
        offsets = array("q", accumulate(lengths, initial=0))
    if len(lengths) != docs or len(offsets) < docs:
        raise ValueError("column cut short")
    return offsets, lengths


class TextColumn:
    """Each document's text in a column (a text field's folded text, the id), sliced from its mapped file.

    A phrase checks thousands of candidates: each candidate's span is sliced
    (``map`` over ``slice`` and ``getitem``, in C) and searched in UTF-8
    (``matching.byte_counter``); nothing is read that no candidate needs,
    which is what a cold search pays for.
    """

    def __init__(self, parts: Iterable[tuple[Any, array[int], array[int]]]) -> None:
        self.buffers: list[Any] = []  # per document, the mapped column it is in
        self.starts: list[int] = []
        self.ends: list[int] = []
        for data, offsets, lengths in parts:
            self.buffers.extend(repeat(data, len(lengths)))
            self.starts.extend(islice(offsets, len(lengths)))
            self.ends.extend(map(add, islice(offsets, len(lengths)), lengths))

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, doc: int) -> str:
        return bytes(self.buffers[doc][self.starts[doc]:self.ends[doc]]).decode()

    def utf8(self, docs: list[int]) -> Iterator[bytes]:
        """The texts of ``docs`` in UTF-8, in their order (each candidate sliced alone: a cold search
        must not read a whole column for a few thousand of its documents)."""
        spans = map(slice, map(self.starts.__getitem__, docs), map(self.ends.__getitem__, docs))
        return map(getitem, map(self.buffers.__getitem__, docs), spans)


class Snapshot:
    """The index as one committed state of its segments: what ``matching`` and ``searching`` read."""

    def __init__(self, folder: Path, segments: Iterable[SegmentInfo], numeric: dict[str, str]) -> None:
        """``numeric``: the typecode of each numeric column (``opening.NUMERIC_COLUMNS``)."""
        self.segments: list[_Segment] = []
        base = 0
        for info in segments:
            self.segments.append(_Segment(folder, info, base))
            base += info.docs
        self.numeric = numeric
        self._numbers: dict[str, list[int]] = {}
        self._strings: dict[str, TextColumn] = {}

    def doc_count_all(self) -> int:
        return sum(s.info.docs for s in self.segments)

    def doc_count(self) -> int:
        return sum(s.info.docs - len(s.info.deleted) for s in self.segments)

    def all_doc_ids(self) -> Iterator[int]:
        for s in self.segments:
            deleted = s.info.deleted
            yield from (s.base + d for d in range(s.info.docs) if d not in deleted)

    def posting_list(self, field: str, term: str) -> PostingList:
        """The whole posting list of ``term`` over every segment, deleted documents left out."""
        found = PostingList([], [])
        with _reading():
            for s in self.segments:
                info = s.terms.info(field, term)
                if info is None:
                    continue
                part = s.postings(info)
                if s.info.deleted:
                    kept = [k for k, d in enumerate(part.ids) if d - s.base not in s.info.deleted]
                    part = PostingList([part.ids[k] for k in kept], [part.weights[k] for k in kept])
                found.ids.extend(part.ids)
                found.weights.extend(part.weights)
        return found

    def document_frequency(self, field: str, term: str) -> int:
        """How many documents have ``term`` (deleted ones included: an upper bound, for choosing what to read first)."""
        with _reading():
            infos = (s.terms.info(field, term) for s in self.segments)
            return sum(_TERM_INFO.unpack_from(i)[2] for i in infos if i is not None)

    def numbers(self, name: str) -> list[int]:
        """Every document's value in the numeric column ``name``, read whole."""
        if name not in self._numbers:
            with _reading():
                self._numbers[name] = self._read_numbers(name, self.numeric[name])
        return self._numbers[name]

    def _read_numbers(self, name: str, typecode: str) -> list[int]:
        values: list[int] = []
        size = struct.calcsize(typecode)
        for s in self.segments:
            data = s.column_file(name)
            part = _big_endian(typecode, data[:len(data) // size * size]) if data is not None else array(typecode)
            values.extend(part[:s.info.docs])
            values.extend(repeat(0, s.info.docs - len(part)))  # Whoosh leaves trailing defaults (0) out
        return values

    def strings(self, name: str) -> TextColumn:
        """Every document's text in the column ``name`` (the id, a field's folded text), mapped on first use."""
        if name not in self._strings:
            with _reading():
                self._strings[name] = TextColumn([s.var_bytes(name) for s in self.segments])
        return self._strings[name]

    def texts(self, field: str) -> TextColumn:
        """The folded ``field`` of every document (``segments.FOLDED``)."""
        return self.strings(f"{field}_folded")

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        """What Whoosh stored of a document: zlib-compressed pickles in the ``_stored`` column."""
        with _reading():
            for s in self.segments:
                if s.base <= docnum < s.base + s.info.docs:
                    data, offsets, lengths = s.var_bytes("_stored")
                    at = docnum - s.base
                    raw = data[offsets[at]:offsets[at] + lengths[at]]
                    return dict(pickle.loads(zlib.decompress(raw))) if raw else {}
        raise IndexError(f"no document {docnum}")

    def close(self) -> None:
        for s in self.segments:
            s.close()


@contextmanager
def _reading() -> Iterator[None]:
    """Turns what damaged files raise into :class:`DamagedIndex`."""
    try:
        yield
    except _BROKEN as exc:
        raise DamagedIndex(f"{type(exc).__name__}: {exc}") from exc
