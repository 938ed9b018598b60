"""The build: gather in stage order, then write, each stage's state last.

    survey seeds/ -> read dumps not yet archived -> regroup only the articles
    they touch -> write ledgers and changed records -> commit the state ->
    update the index (in a forked child, beside the next steps) -> aliases,
    report, manifest -> the site (Node, started with the build, renders its math)

A build killed at any point leaves every file whole (atomic writes) and the
state at the previous build, so the next build simply does the work again.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import archive as store
from . import index
from .archive import Ledger, Writer
from .katex_node import Started, prestarted
from .lock import locked
from .merge import MERGE_VERSION, conflicts, merge_groups
from .progress import Progress, quietly
from .readers import read_text
from .records import Article, Dump, Problem
from .sources import decode, survey
from .state import STATE_PATH, Change, State, Update, article_json

if TYPE_CHECKING:
    from .site_state import SiteResult

#: Present while a build runs (it names the site being rendered): a build that finds it sweeps temporary files.
UNFINISHED = Path(".cache") / "unfinished"
#: Bump when a reader changes what it extracts: every dump is then read again.
READER_VERSION = 2  # 2: HTML pages and RSS feeds are read


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for the one-line summary and the tests."""

    dumps: int
    new_dumps: int
    sightings: int
    records: int
    records_written: int  #: records new or changed in the archive: their files were written
    written: int
    removed: int  #: record files removed: records that became another's alias (or strays no ledger explains)
    change: Change
    problems: tuple[Problem, ...]
    new_problems: tuple[Problem, ...]
    seconds: float
    site: SiteResult | None = None

    @property
    def merged(self) -> int:
        return self.sightings - self.records


def build(
    seeds: Path, root: Path, *, full: bool = False, progress: Progress | None = None, site: Path | None = None
) -> BuildResult:
    """Bring the archive in ``root`` up to date with the dumps in ``seeds``, then the site in ``site``."""
    started = time.perf_counter()
    progress = progress or quietly
    with locked(root), State(root / STATE_PATH) as state, fewer_collections(), ExitStack() as later:
        _begin(root, site)
        manifest = store.load_manifest(root)
        reread = full or manifest.reader_version != READER_VERSION  # readers changed: read every dump again
        trusted = not reread and state.meta("manifest") == manifest.digest and state.meta("merge") == str(MERGE_VERSION)
        if not trusted:
            state.reset()  # rebuilt from the ledgers: the archive is the truth
        archived = state.dumps() if trusted else ({} if reread else dict(manifest.dumps))
        found = _unique(survey(seeds, state.known_hash, state.record_hash))
        todo = [(p, d) for p, d in found if d.sha256 not in archived]
        # New dumps mean pages to draw: Node loads KaTeX (~0.15 s) while they are read and indexed
        katex = later.enter_context(prestarted()) if site is not None and todo else None
        fresh = [read_dump(_name(manifest, d), d, p.read_bytes()) for p, d in progress(todo, "reading", len(todo))]
        done_now = {ledger.sha256 for ledger in fresh}
        incoming = fresh + ([] if trusted else store.load_ledgers(root, set(manifest.dumps) - done_now))
        new = [s for ledger in incoming for s in ledger.sightings]
        known, old_ids = state.affected(new) if trusted else ([], set())
        groups = merge_groups([*known, *new])

        writer = Writer()
        for ledger in fresh:
            writer.write(store.ledger_path(root, ledger.sha256), store.to_yaml(ledger.to_dict()))
        articles = list(progress([a for a, _ in groups], "records", len(groups)))
        digests, records_written = write_records(writer, root, articles, state.stored(a.id for a in articles))
        removed = sorted(old_ids - {a.id for a, _ in groups}) + ([] if trusted else stray_records(root, groups))
        for gone in removed:
            writer.remove(store.record_path(root, gone))
        dumps = {**manifest.dumps, **state.dumps(), **{x.sha256: x.name for x in incoming}}
        done = store.Manifest(READER_VERSION, dumps)
        change = state.apply(Update(
            dumps=[(x.sha256, x.name, x.kind, len(x.sightings), x.problems) for x in incoming],
            sightings=[(x.sha256, s) for x in incoming for s in x.sightings],
            groups=groups, digests=digests, removed=removed,
            meta={"manifest": done.digest, "merge": str(MERGE_VERSION)},
        ))
        indexed = later.enter_context(index.updating(root, state.digests(), state.articles, full=full, progress=progress))
        problems = sorted(state.problems() + conflicts(state.conflicted()), key=_problem_order)
        counts = state.counts()
        writer.write(root / "aliases.yaml", store.to_yaml(state.aliases()))
        writer.write(root / "report.txt", report(counts, problems).encode())
        writer.write(root / "manifest.yaml", done.yaml)
        rendered = None if site is None else _render_site(site, root, state, problems, done.digest, full, katex, progress)
        indexed()
        (root / UNFINISHED).unlink()
    return BuildResult(
        dumps=counts[0], new_dumps=len(fresh), sightings=counts[2], records=counts[3], records_written=records_written,
        written=writer.written, removed=writer.removed, change=change, problems=tuple(problems),
        new_problems=tuple(p for ledger in fresh for p in ledger.problems), seconds=time.perf_counter() - started,
        site=rendered,
    )


def _render_site(site: Path, root: Path, state: State, problems: Sequence[Problem], key: str, full: bool,
                 katex: Started | None, progress: Progress) -> SiteResult:
    """The site follows the archive (its own state file is written last). A site already made from
    the records ``key`` names is only looked at: Jinja, Markdown and the math are imported only when
    pages are drawn, and then only the records of those pages are loaded whole."""
    from .site_state import look, unchanged

    seen = look(site)
    found = None if full else unchanged(seen, key)
    if found is not None:
        return found
    from .render import render_site
    from .site_records import Records

    records = Records.from_rows(state.summaries(), state.articles)
    return render_site(site, records, problems, full=full, cache_dir=root / ".cache" / "math", key=key, found=seen,
                       katex=katex, progress=progress)


@contextmanager
def fewer_collections(allocations: int = 20_000) -> Iterator[None]:
    """Run Python's cycle collector less often while building.

    A build makes hundreds of thousands of objects that live until it ends
    (sightings, records, summaries, page contexts), and at the default
    threshold (700) the collector runs hundreds of times, scanning them again
    each time: a tenth of a 10k-article rebuild. Builds make few cycles, so
    collecting every ``allocations`` instead costs no memory worth counting.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(allocations, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _begin(root: Path, site: Path | None) -> None:
    """Sweep what a build that did not finish left half-written, then mark this one as unfinished.

    Temporary files only come from writes a killed (or failed) build never
    completed, and such a build leaves its mark: only then are the folders
    walked (~70 ms for 10k records and their pages), including the site it was
    rendering.
    """
    marker = root / UNFINISHED
    if marker.exists():
        earlier = [Path(line) for line in marker.read_text(encoding="utf-8").splitlines() if line]
        for folder in dict.fromkeys([root, *earlier, *([site] if site else [])]):
            if folder.is_dir():
                store.sweep_temporaries(folder)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{site.resolve()}\n" if site else "", encoding="utf-8")


def _name(manifest: store.Manifest, dump: Dump) -> str:
    """A dump keeps the name it was first archived under, so renames change nothing."""
    return manifest.dumps.get(dump.sha256, dump.name)


def _unique(found: Iterable[tuple[Path, Dump]]) -> list[tuple[Path, Dump]]:
    """One entry per content: the same bytes under two names are one dump."""
    seen: dict[str, tuple[Path, Dump]] = {}
    for path, dump in found:
        seen.setdefault(dump.sha256, (path, dump))
    return list(seen.values())


def read_dump(name: str, dump: Dump, data: bytes) -> Ledger:
    """Decode and read one dump; whatever goes wrong becomes a problem."""
    decoded = decode(data, name)
    before = (decoded.problem,) if decoded.problem else ()
    if decoded.text is None:
        return Ledger(name, dump.sha256, dump.size, None, None, (), before)
    kind, reading = read_text(decoded.text, name)
    return Ledger(name, dump.sha256, dump.size, decoded.encoding, kind, reading.sightings, before + reading.problems)


def write_records(writer: Writer, root: Path, articles: Sequence[Article],
                  stored: dict[str, tuple[str, str]]) -> tuple[list[tuple[Article, str]], int]:
    """Write each record whose bytes changed; return every (article, digest), and how many
    files were written (the records new or changed in the archive: a rebuilt state rewrites none).

    ``stored``: (digest, JSON) of the records as the state last saw them. A
    record whose JSON is unchanged keeps its file and digest without being
    dumped as YAML again (a new dump regroups hundreds of records by month
    and day, and most come out the same; YAML is the slow part).
    """
    out, written = [], 0
    for article in articles:
        path = store.record_path(root, article.id)
        known = stored.get(article.id)
        if known is not None and known[1] == article_json(article) and path.exists():
            out.append((article, known[0]))
            continue
        data = store.to_yaml(store.article_dict(article))
        written += writer.write(path, data, known[0] if known else None)
        out.append((article, store.digest(data)))
    return out, written


def stray_records(root: Path, groups: Sequence[tuple[Article, object]]) -> list[str]:
    """Record files no article stands behind (only looked for when rebuilding state)."""
    ids = {a.id for a, _ in groups}
    return sorted(p.stem for p in (root / "records").glob("*.yaml") if p.stem not in ids)


def _problem_order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, p.line, p.severity, p.message)


def report(counts: tuple[int, int, int, int, dict[str, int]], problems: Sequence[Problem]) -> str:
    """The data-quality report: counts, flag tallies, then every problem."""
    dumps, unread, sightings, articles, flags = counts
    severities = {s: sum(1 for p in problems if p.severity == s) for s in ("error", "warning", "info")}
    lines = [
        "kexue-archive data-quality report",
        f"dumps: {dumps} ({unread} unreadable)",
        f"sightings: {sightings}",
        f"records: {articles} ({sightings - articles} sightings merged into others)",
        f"flagged records: {flags.pop('', 0)}",
        *(f"  {flag}: {n}" for flag, n in sorted(flags.items())),
        f"problems: {len(problems)} (" + ", ".join(f"{s}: {n}" for s, n in severities.items()) + ")",
        *(str(p) for p in problems),
    ]
    return "\n".join(lines) + "\n"
