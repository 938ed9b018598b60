"""``kexue-archive add``: take new dumps into seeds/, refusing what cannot be read.

A file whose content is already in seeds/ (by hash) is skipped; a file no
reader can read (binary, undecodable, unknown layout, no article) is reported
and not copied, so seeds/ only ever holds dumps the build understands.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .archive import atomic_write
from .build import read_dump
from .errors import UserError
from .records import Dump, Problem
from .sources import HashCache, find_dumps, survey


@dataclass(frozen=True)
class Intake:
    """What ``add`` did with each file it was given."""

    copied: tuple[str, ...]
    duplicates: tuple[str, ...]
    rejected: tuple[Problem, ...]


def _forget(path: str, size: int, mtime_ns: int, sha: str) -> None:
    """``add`` records no hashes: the build that follows does, under its lock."""


def _candidates(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += find_dumps(path)
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"no such file or folder: {path}", "give the paths of dump files or of folders holding them")
    return found


def _free_name(seeds: Path, name: str, sha: str) -> Path:
    """``name`` in seeds/, or ``stem-<sha8>.ext`` when another dump has that name."""
    target = seeds / name
    if not target.exists():
        return target
    stem, dot, ext = name.partition(".")
    return seeds / f"{stem}-{sha[:8]}{dot}{ext}"


def add(paths: Iterable[Path], seeds: Path, known: HashCache) -> Intake:
    """Copy the readable new dumps among ``paths`` into ``seeds``. ``known``: the hashes the last
    build recorded (``state.known_hashes``), so that dumps already in seeds/ are not read again."""
    seeds.mkdir(parents=True, exist_ok=True)
    present = {dump.sha256 for _, dump in survey(seeds, known, _forget)}
    copied: list[str] = []
    duplicates: list[str] = []
    rejected: list[Problem] = []
    for path in _candidates(paths):
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if sha in present:
            duplicates.append(str(path))
            continue
        ledger = read_dump(str(path), Dump(path.name, sha, len(data)), data)
        if not ledger.sightings:
            why = next((p for p in ledger.problems if p.severity != "info"), None)
            rejected.append(why or Problem(str(path), 0, "error", "no article found; not added"))
            continue
        target = _free_name(seeds, path.name, sha)
        atomic_write(target, data)
        present.add(sha)
        copied.append(target.name)
    return Intake(tuple(copied), tuple(duplicates), tuple(rejected))
