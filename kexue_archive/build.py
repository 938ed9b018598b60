"""The build: gather everything in stage order, then write it, manifest last.

Reading order mirrors the pipeline: find dumps -> read the new ones -> merge
with every ledger -> write ledgers, records, aliases, report -> manifest.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import archive as store
from .archive import Ledger, Manifest, Writer
from .lock import locked
from .merge import conflicts, merge
from .readers import read_text
from .records import Article, Dump, Problem
from .sources import decode, iter_dumps

#: Bump when a reader changes what it extracts: every dump is then read again.
READER_VERSION = 1


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for the one-line summary and the tests."""

    dumps: int
    new_dumps: int
    sightings: int
    records: int
    written: int
    removed: int
    problems: tuple[Problem, ...]
    new_problems: tuple[Problem, ...]
    seconds: float

    @property
    def merged(self) -> int:
        return self.sightings - self.records


def build(seeds: Path, root: Path, *, full: bool = False) -> BuildResult:
    """Bring the archive in ``root`` up to date with the dumps in ``seeds``."""
    started = time.perf_counter()
    with locked(root):
        manifest = store.load_manifest(root)
        fresh = full or manifest.reader_version != READER_VERSION
        found = _unique(iter_dumps(seeds))
        new = [(d, data) for d, data in found if fresh or d.sha256 not in manifest.dumps]
        new_ledgers = [read_dump(_name(d, manifest), d, data) for d, data in new]
        kept = set(manifest.dumps) - {ledger.sha256 for ledger in new_ledgers}
        ledgers = store.load_ledgers(root, kept) + new_ledgers
        articles = merge(s for ledger in ledgers for s in ledger.sightings)
        problems = report_problems(ledgers, articles)

        writer = Writer()
        for ledger in new_ledgers:
            writer.write(store.ledger_path(root, ledger.sha256), store.to_yaml(ledger.to_dict()))
        digests = write_records(writer, root, articles, manifest.records)
        writer.write(root / "aliases.yaml", store.to_yaml(aliases_of(articles)))
        writer.write(root / "report.txt", report(ledgers, articles, problems).encode())
        done = Manifest(READER_VERSION, {ledger.sha256: ledger.name for ledger in ledgers}, digests)
        writer.write(root / "manifest.yaml", store.to_yaml(done.to_dict()))
    new_problems = tuple(p for ledger in new_ledgers for p in ledger.problems)
    return BuildResult(
        dumps=len(ledgers), new_dumps=len(new_ledgers), sightings=sum(len(x.sightings) for x in ledgers),
        records=len(articles), written=writer.written, removed=writer.removed, problems=tuple(problems),
        new_problems=new_problems, seconds=time.perf_counter() - started,
    )


def _unique(found: Iterable[tuple[Dump, bytes]]) -> list[tuple[Dump, bytes]]:
    """One entry per content: the same bytes under two names are one dump."""
    seen: dict[str, tuple[Dump, bytes]] = {}
    for dump, data in found:
        seen.setdefault(dump.sha256, (dump, data))
    return list(seen.values())


def _name(dump: Dump, manifest: Manifest) -> str:
    """A dump keeps the name it was first archived under, so renames change nothing."""
    return manifest.dumps.get(dump.sha256, dump.name)


def read_dump(name: str, dump: Dump, data: bytes) -> Ledger:
    decoded = decode(data, name)
    before = (decoded.problem,) if decoded.problem else ()
    if decoded.text is None:
        return Ledger(name, dump.sha256, dump.size, None, None, (), before)
    kind, reading = read_text(decoded.text, name)
    return Ledger(name, dump.sha256, dump.size, decoded.encoding, kind, reading.sightings, before + reading.problems)


def write_records(writer: Writer, root: Path, articles: Sequence[Article], previous: Mapping[str, str]) -> dict[str, str]:
    """Write each record whose bytes changed; remove those merged away."""
    digests = {}
    for article in articles:
        data = store.to_yaml(store.article_dict(article))
        writer.write(store.record_path(root, article.id), data, previous.get(article.id))
        digests[article.id] = store.digest(data)
    for gone in sorted(set(previous) - set(digests)):
        writer.remove(store.record_path(root, gone))
    return digests


def aliases_of(articles: Iterable[Article]) -> dict[str, str]:
    return dict(sorted((alias, a.id) for a in articles for alias in a.aliases))


def report_problems(ledgers: Iterable[Ledger], articles: Sequence[Article]) -> list[Problem]:
    found = [p for ledger in ledgers for p in ledger.problems] + conflicts(articles)
    return sorted(found, key=lambda p: (p.file, p.line, p.severity, p.message))


def report(ledgers: Sequence[Ledger], articles: Sequence[Article], problems: Sequence[Problem]) -> str:
    """The data-quality report: counts, flag tallies, then every problem."""
    sightings = sum(len(x.sightings) for x in ledgers)
    unread = sum(1 for x in ledgers if x.kind is None)
    flags = Counter(f for a in articles for f in a.flags)
    severities = Counter(p.severity for p in problems)
    lines = [
        "kexue-archive data-quality report",
        f"dumps: {len(ledgers)} ({unread} unreadable)",
        f"sightings: {sightings}",
        f"records: {len(articles)} ({sightings - len(articles)} sightings merged into others)",
        f"flagged records: {sum(1 for a in articles if a.flags)}",
        *(f"  {flag}: {n}" for flag, n in sorted(flags.items())),
        f"problems: {len(problems)} (" + ", ".join(f"{s}: {severities[s]}" for s in ("error", "warning", "info")) + ")",
        *(str(p) for p in problems),
    ]
    return "\n".join(lines) + "\n"
