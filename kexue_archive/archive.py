"""The archive folder: deterministic YAML, written atomically, only when changed.

Layout (everything but ``.cache/`` and ``index/`` is meant to be committed):

    records/<id>.yaml   one merged article per file (the archive proper)
    dumps/<sha>.yaml    the ledger: what one dump said, sighting by sighting,
                        and the problems met reading it. The merge is recomputed
                        from ledgers, so a dump deleted from seeds/ is never
                        forgotten, and a dump is read once in its life.
    aliases.yaml        old ids of articles that learnt their title later
    report.txt          the data-quality report of the last build
    manifest.yaml       which dumps the ledgers hold; written last, so an
                        interrupted build is simply redone by the next one.

Every write goes to a temporary file in the same folder and is moved into
place with ``os.replace``: a reader sees the old file or the new, never half.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .records import Article, Math, Problem, Sighting, Source

try:  # libyaml is several times faster; PyYAML without it still works
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]  # same interface, pure Python
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]  # same interface, pure Python

#: Bump when the layout of the files below changes.
FORMAT = 1
#: The keys of a record, in the order they are written (YAML and JSON alike).
RECORD_KEYS = ("id", "title", "author", "date", "readers", "excerpt", "math", "url", "sources", "flags")


class _Dumper(_BaseDumper):
    """Block style; multi-line text as ``|`` literals so diffs stay line-by-line."""


def _str(dumper: _Dumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(data: Any) -> bytes:
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=2**31 - 1)
    return text.encode("utf-8")


def from_yaml(data: bytes) -> Any:
    return yaml.load(data, Loader=_Loader)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- records -----------------------------------------------------------------

def article_dict(a: Article) -> dict[str, Any]:
    """The public shape of a record: exactly :data:`RECORD_KEYS`, in order."""
    return {
        "id": a.id, "title": a.title, "author": a.author, "date": a.date, "readers": a.readers,
        "excerpt": a.excerpt,
        "math": [{"tex": m.tex, "display": m.display} for m in a.math],
        "url": a.url,
        "sources": [{"file": s.file, "line": s.line, "readers": s.readers} for s in a.sources],
        "flags": list(a.flags),
    }


def article_from_dict(d: Mapping[str, Any], aliases: tuple[str, ...] = ()) -> Article:
    return Article(
        id=d["id"], title=d["title"], author=d["author"], date=d["date"], readers=d["readers"],
        excerpt=d["excerpt"], math=tuple(Math(m["tex"], m["display"]) for m in d["math"]), url=d["url"],
        sources=tuple(Source(s["file"], s["line"], s["readers"]) for s in d["sources"]),
        flags=tuple(d["flags"]), aliases=aliases,
    )


# -- ledgers -----------------------------------------------------------------

@dataclass(frozen=True)
class Ledger:
    """What reading one dump produced; stored so it is never read twice."""

    name: str
    sha256: str
    size: int
    encoding: str | None
    kind: str | None
    sightings: tuple[Sighting, ...]
    problems: tuple[Problem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "sha256": self.sha256, "size": self.size,
            "encoding": self.encoding, "kind": self.kind,
            "sightings": [_sighting_dict(s) for s in self.sightings],
            "problems": [{"line": p.line, "severity": p.severity, "message": p.message} for p in self.problems],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Ledger:
        name = d["name"]
        return cls(
            name=name, sha256=d["sha256"], size=d["size"], encoding=d["encoding"], kind=d["kind"],
            sightings=tuple(
                Sighting(file=name, line=s["line"], title=s["title"], author=s["author"], date=s["date"],
                         readers=s["readers"], excerpt=s["excerpt"], url=s["url"], flags=tuple(s["flags"]))
                for s in d["sightings"]
            ),
            problems=tuple(Problem(name, p["line"], p["severity"], p["message"]) for p in d["problems"]),
        )


def _sighting_dict(s: Sighting) -> dict[str, Any]:
    return {
        "line": s.line, "title": s.title, "author": s.author, "date": s.date, "readers": s.readers,
        "url": s.url, "flags": list(s.flags), "excerpt": s.excerpt,
    }


def ledger_path(root: Path, sha256: str) -> Path:
    return root / "dumps" / f"{sha256[:16]}.yaml"


def record_path(root: Path, article_id: str) -> Path:
    return root / "records" / f"{article_id}.yaml"


# -- manifest ----------------------------------------------------------------

@dataclass(frozen=True)
class Manifest:
    """The archive's table of contents: which dumps its ledgers hold.

    dumps: sha256 -> the file name the dump was first archived under.
    Written last by every build; its digest tells whether the derived state
    cache still describes this archive.
    """

    reader_version: int = 0
    dumps: Mapping[str, str] = field(default_factory=dict)

    @functools.cached_property
    def yaml(self) -> bytes:
        """The manifest file's bytes (worked out once: a build needs them, and their digest, several times)."""
        data = {"format": FORMAT, "reader_version": self.reader_version, "dumps": dict(sorted(self.dumps.items()))}
        return to_yaml(data)

    @functools.cached_property
    def digest(self) -> str:
        return digest(self.yaml)


def load_manifest(root: Path) -> Manifest:
    path = root / "manifest.yaml"
    if not path.exists():
        return Manifest()
    d = from_yaml(path.read_bytes()) or {}
    if d.get("format") != FORMAT:
        return Manifest()  # an unknown layout: rebuild everything we can from seeds
    return Manifest(d.get("reader_version", 0), d.get("dumps") or {})


def load_ledgers(root: Path, shas: Iterable[str]) -> list[Ledger]:
    return [Ledger.from_dict(from_yaml(ledger_path(root, sha).read_bytes())) for sha in sorted(shas)]


def load_aliases(root: Path) -> dict[str, str]:
    path = root / "aliases.yaml"
    return dict(from_yaml(path.read_bytes()) or {}) if path.exists() else {}


def load_articles(root: Path) -> list[Article]:
    """Every record in the archive, sorted by id."""
    aliases: dict[str, list[str]] = {}
    for old, new in load_aliases(root).items():
        aliases.setdefault(new, []).append(old)
    paths = sorted((root / "records").glob("*.yaml"))
    return [
        article_from_dict(d, tuple(sorted(aliases.get(d["id"], ()))))
        for d in (from_yaml(p.read_bytes()) for p in paths)
    ]


# -- writing -----------------------------------------------------------------

class Writer:
    """Atomic, write-if-changed file output, counting what it really wrote.

    ``KEXUE_CRASH_AFTER_WRITES=k`` kills the process right after the k-th real
    write: the crash-safety tests use it to stop a build at every point.
    """

    def __init__(self) -> None:
        self.written = 0
        self.removed = 0
        limit = os.environ.get("KEXUE_CRASH_AFTER_WRITES")
        self._crash_after = int(limit) if limit else None

    def write(self, path: Path, data: bytes, known_digest: str | None = None) -> bool:
        """Write ``data`` unless the file already holds it; True when written."""
        if known_digest is not None and known_digest == digest(data) and path.exists():
            return False
        if known_digest is None and path.exists() and path.read_bytes() == data:
            return False
        atomic_write(path, data)
        self.written += 1
        if self._crash_after is not None and self.written >= self._crash_after:
            os._exit(137)  # simulate SIGKILL: no cleanup, no flush
        return True

    def remove(self, path: Path) -> None:
        if path.exists():
            path.unlink()
            self.removed += 1


def sweep_temporaries(folder: Path) -> int:
    """Delete the temporary files of writes a killed process never finished.

    Only called by a build holding the lock, so no live writer owns any of them.
    """
    removed = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            if name.startswith(".") and name.endswith(".tmp"):
                Path(parent, name).unlink(missing_ok=True)
                removed += 1
    return removed


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and ``os.replace``.

    The temporary name carries the process and thread (two writers of one file, such as
    two builds sharing the math cache, never share a temporary file); it is created with
    mode 0666 less the umask, like any file a user writes: ``tempfile.mkstemp`` would leave
    every page readable by its owner only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
