"""Find the dumps in the seeds folder, hash them, and decode them honestly.

Encodings: a BOM is believed (UTF-8, UTF-16, UTF-32); otherwise strict UTF-8
is tried, and only then charset-normalizer is asked. Whatever is not plain
UTF-8 is reported, so no guess is ever silent; binary or undecodable files
are reported and skipped.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .records import Dump, Problem

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Encodings a Chinese blog dump plausibly comes in, for the detector to choose from.
_CANDIDATES = ["gb18030", "big5", "utf_16", "utf_32", "latin_1"]


@dataclass(frozen=True)
class Decoded:
    """A dump's text and the encoding it was read with (None when it could not be)."""

    text: str | None
    encoding: str | None
    problem: Problem | None


def find_dumps(seeds: Path) -> list[Path]:
    """Every regular, non-hidden file below ``seeds``, in a stable order."""
    if not seeds.is_dir():
        return []
    return sorted(
        p for p in seeds.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(seeds).parts)
    )


def dump_of(path: Path, seeds: Path, data: bytes) -> Dump:
    return Dump(path.relative_to(seeds).as_posix(), hashlib.sha256(data).hexdigest(), len(data))


#: Looks up the hash of a file last seen with this (path, size, mtime), or None.
HashCache = Callable[[str, int, int], "str | None"]


def survey(seeds: Path, cached: HashCache, remember: Callable[[str, int, int, str], None]) -> Iterator[tuple[Path, Dump]]:
    """Every dump with its content hash, reading only files whose size or
    modification time changed since they were last hashed."""
    for path in find_dumps(seeds):
        st = path.stat()
        name = path.relative_to(seeds).as_posix()
        key = str(path.resolve())
        sha = cached(key, st.st_size, st.st_mtime_ns)
        if sha is None:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            remember(key, st.st_size, st.st_mtime_ns, sha)
        yield path, Dump(name, sha, st.st_size)


def decode(data: bytes, file: str) -> Decoded:
    if not data.strip():
        return Decoded(None, None, Problem(file, 0, "warning", "empty file; skipped"))
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                message = f"has a {encoding} byte-order mark but does not decode ({exc.reason}); skipped"
                return Decoded(None, None, Problem(file, 0, "error", message))
            note = None if encoding == "utf-8-sig" else Problem(file, 0, "info", f"decoded as {encoding} (byte-order mark)")
            return Decoded(text.lstrip("\ufeff"), encoding, note)
    try:
        return Decoded(data.decode("utf-8"), "utf-8", None)
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        return Decoded(None, None, Problem(file, 0, "error", "binary file (NUL bytes, no UTF-16/32 byte-order mark); skipped"))
    from charset_normalizer import from_bytes  # ~30 ms to import: only for the rare dump that is not UTF-8

    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is None or best.encoding == "latin_1" or _looks_binary(str(best)):
        return Decoded(None, None, Problem(file, 0, "error", "not text in any known encoding; skipped"))
    encoding = best.encoding
    return Decoded(str(best), encoding, Problem(file, 0, "info", f"decoded as {encoding} (detected by charset-normalizer)"))


def _looks_binary(text: str) -> bool:
    """Control characters other than white space mean it was never text."""
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls > max(2, len(text) // 100)
