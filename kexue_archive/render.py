"""Render the static site: plan the pages, draw those whose inputs changed, write.

The site works straight from disk (file://): every link is relative, the
search data is a script, KaTeX's CSS and fonts are copied in, and nothing is
requested from any network. Output is a pure function of the records, the
templates, the static assets and the KaTeX version, so the same archive gives
byte-identical files.

Incremental: ``.kexue-site.json`` in the site folder holds a summary of every
record and each page's signature (:mod:`site_layout`), both computed from
summaries alone. A page whose signature is unchanged and whose file exists is
not drawn again, and only the records of pages that are drawn are loaded;
pages no longer planned are removed. A program, template or asset change
draws everything. The state file is written last, so an interrupted render
is simply redone by the next build.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined

from . import site_openings
from .archive import Writer
from .katex_node import Started, prestarted
from .records import Article, Problem
from .series import Part, parse
from .site_layout import Layout, Summary, specs
from .site_math import katex_assets, katex_version, render_math
from .site_pages import SAFE_ID, Page, cards, page, quality_page, summarise
from .site_search import fold_script
from .site_shards import SHARD, plan_shards, write_shards
from .site_text import Rendered, clean, excerpt_html, opening_html
from .state import article_json
from .tex import scan

#: Bump when the renderer changes what it writes: every page is drawn again.
SITE_VERSION = 2  # 2: month and year pages, search shards, record summaries in the state
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATE = ".kexue-site.json"
#: Beside the math cache: the cards' openings (``site_openings``).
OPENINGS = "openings.sqlite"
_SAFE_PATH = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*")


@dataclass(frozen=True)
class SiteResult:
    """What a render did, for the build summary and the tests."""

    pages: int
    rendered: int
    written: int
    removed: int
    math_errors: int
    index_bytes: int
    problems: tuple[Problem, ...]


class _Environment(Environment):
    """Jinja, with ``x.key`` on a dict looking the key up first.

    Page contexts are plain dicts (they are digested as JSON), and Jinja's
    ``x.key`` tries an attribute first: on a dict that fails, and the exception
    cost more than the rest of a row (a year page has hundreds of rows). The
    result is the same unless a template reads a dict method by attribute (none does: tested).
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def environment(templates: Path = TEMPLATES, cache: Path | None = None) -> Environment:
    """Jinja with autoescape on for every template, whatever its name.

    ``cache`` keeps compiled templates between builds (compiling them is a fifth of a small rebuild)."""
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    env = _Environment(
        loader=FileSystemLoader(templates), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        bytecode_cache=FileSystemBytecodeCache(str(cache)) if cache is not None else None,
    )
    return env


def safe_target(root: Path, rel: str) -> Path:
    """``root / rel``, refusing any path that could land outside ``root`` (symlinks included)."""
    if not _SAFE_PATH.fullmatch(rel) or ".." in rel.split("/"):
        raise ValueError(f"unsafe site path {rel!r}")
    target = root / rel
    if not _resolved(str(target.parent)).is_relative_to(_resolved(str(root))):
        raise ValueError(f"site path {rel!r} leaves {root}")
    if target.is_symlink():
        raise ValueError(f"site path {rel!r} is a symbolic link")
    return target


@functools.lru_cache(maxsize=256)
def _resolved(folder: str) -> Path:
    """Folders resolve once per process: a site has a handful, and pages by the thousand."""
    return Path(folder).resolve()


def sanitise(articles: Iterable[Article]) -> tuple[list[Article], list[Problem]]:
    """Records fit for a page: characters HTML forbids replaced, unsafe ids left out."""
    kept, problems = [], []
    for a in articles:
        if not SAFE_ID.fullmatch(a.id):
            where = a.sources[0] if a.sources else None
            problems.append(Problem(where.file if where else "(archive)", where.line if where else 0, "error",
                                    f"record id {a.id!r} is not a safe file name; no page made for it"))
            continue
        kept.append(replace(
            a, title=a.title and clean(a.title), author=a.author and clean(a.author), url=a.url and clean(a.url),
            excerpt=clean(a.excerpt), math=a.math if clean(a.excerpt) == a.excerpt else scan(clean(a.excerpt)).math,
            aliases=tuple(x for x in a.aliases if SAFE_ID.fullmatch(x)),
        ))
    return kept, problems


def static_assets() -> list[tuple[str, bytes]]:
    """The site's own CSS and JS (package data), then KaTeX's."""
    static = resources.files("kexue_archive") / "static"
    own = [(f"assets/{f.name}", f.read_bytes()) for f in sorted(static.iterdir(), key=lambda f: f.name) if f.is_file()]
    return own + list(katex_assets())


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def inputs_digest(templates: Path, assets: Sequence[tuple[str, bytes]]) -> str:
    """What every page depends on: the program (any module, the KaTeX runner), templates, assets, KaTeX."""
    parts: list[str | bytes] = [str(SITE_VERSION), katex_version()]
    package = Path(__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.cjs")]):
        parts += [path.relative_to(package).as_posix(), path.read_bytes()]
    for path in sorted(templates.rglob("*.html")):
        parts += [path.relative_to(templates).as_posix(), path.read_bytes()]
    for name, data in assets:
        parts += [name, data]
    return _digest(*parts)


@dataclass(frozen=True)
class Look:
    """The site as a build finds it, read once for :func:`unchanged` and :func:`render_site`:
    its state file (any version), the files where pages go, and what every page depends on."""

    site: Path
    templates: Path
    state: dict[str, Any]
    files: set[str]
    assets: list[tuple[str, bytes]]
    base: str


def look(site: Path, templates: Path = TEMPLATES) -> Look:
    assets = static_assets()
    return Look(site, templates, _read_state(site), _existing(site), assets, inputs_digest(templates, assets))


def unchanged(found: Look, key: str) -> SiteResult | None:
    """What the site holds when it was last rendered from the records ``key`` names
    (the archive manifest's digest), with this program, templates and assets, and
    every page is still there; else None. The build then need not even load the records."""
    state = found.state if found.state.get("version") == SITE_VERSION else {}
    if state.get("key") != _digest(found.base, key):
        return None
    pages, site = state.get("pages", {}), found.site
    if not all(rel in found.files for rel in [*pages, "assets/fold.js"]):
        return None
    math_errors = sum(len(found) for found in state.get("math_problems", {}).values())
    index_bytes = sum((site / rel).stat().st_size for rel in pages if SHARD.fullmatch(rel))
    return SiteResult(sum(1 for rel in pages if not SHARD.fullmatch(rel)), 0, 0, 0, math_errors, index_bytes, ())


def page_digest(base: str, page: Page) -> str:
    return _digest(base, page.template, json.dumps(page.context, sort_keys=True, ensure_ascii=False))


def record_digest(a: Article) -> str:
    """Stands for a record given as an object (the build passes the archive's own digests)."""
    return _digest(article_json(a))


@dataclass(frozen=True)
class Records:
    """What the renderer reads: a summary of every record, and a way to load whole
    records by id (only those whose pages are drawn are ever loaded)."""

    summaries: Sequence[Summary]
    load: Callable[[Iterable[str]], Sequence[Article]]

    @classmethod
    def of(cls, articles: Iterable[Article]) -> Records:
        by_id = {a.id: a for a in articles}
        summaries = [summarise(a, record_digest(a)) for a in by_id.values()]
        return cls(summaries, lambda ids: [by_id[i] for i in ids])

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str | None, str | None, int | None, str, str]],
                  load: Callable[[Iterable[str]], Sequence[Article]]) -> Records:
        """From :meth:`State.summaries` rows (flags and aliases comma-joined)."""
        summaries = [Summary(aid, digest, title, date, readers, tuple(flags.split(",")) if flags else (),
                             tuple(aliases.split(",")) if aliases else ())
                     for aid, digest, title, date, readers, flags, aliases in rows]
        return cls(summaries, load)


def render_site(site: Path, articles: Sequence[Article] | Records, problems: Sequence[Problem] = (), *,
                templates: Path = TEMPLATES, full: bool = False, cache_dir: Path | None = None,
                key: str | None = None, found: Look | None = None) -> SiteResult:
    """Bring the site in ``site`` up to date with the records; returns what it did.

    ``articles`` is every record, or (from the build) :class:`Records`: summaries plus a
    loader, so that only the records whose pages are drawn are decoded.
    ``cache_dir`` keeps rendered math between builds (the archive's ``.cache/math``);
    ``key`` names the records (the archive manifest's digest) for :func:`unchanged`;
    ``found``, the site as :func:`look` found it just before (else it is looked at here).
    """
    records = articles if isinstance(articles, Records) else Records.of(articles)
    found = found or look(site, templates)
    if (found.site, found.templates) != (site, templates):
        raise ValueError(f"a look at {found.site} with {found.templates} given for {site} with {templates}")
    # A rebuild starts Node now: KaTeX loads (~0.15 s) while the pages are planned, not after
    with prestarted() if found.state else nullcontext() as katex:
        return _render(site, records, problems, templates, full, cache_dir, key, found, katex)


def _render(site: Path, records: Records, problems: Sequence[Problem], templates: Path, full: bool,
            cache_dir: Path | None, key: str | None, found: Look, katex: Started | None) -> SiteResult:
    assets, base, existing = found.assets, found.base, found.files
    previous = found.state  # whatever version: its pages are the ones to remove if no longer planned
    state = {} if full or previous.get("version") != SITE_VERSION else previous
    if state.get("base") != base:
        state = {}  # program, templates or assets changed: every page is drawn again
    old_pages: Mapping[str, str] = state.get("pages", {})
    planned_before = [rel for rel in previous.get("pages", {}) if isinstance(rel, str)] + _LEGACY
    old_rows: Mapping[str, list[Any]] = state.get("articles", {})
    summaries, unsafe_ids = _safe_summaries(records.summaries)
    layout = Layout(summaries, _parts(summaries, old_rows))
    wanted = specs(layout)
    todo = [p for p in wanted if old_pages.get(p.path) != p.sig or p.path not in existing]
    shard_sigs, shards = plan_shards(site, layout, state, existing)
    shown = {i: layout.by_id[i].digest for p in todo for i in cards(p)}
    kept = cache_dir.parent / OPENINGS if cache_dir is not None else None
    openings = site_openings.load(kept, base, shown) if kept is not None else {}
    missing = sorted(set(shown) - set(openings))  # cards whose opening was not kept
    drawn = {i for p in todo if not cards(p) for i in p.needs} | set(missing)  # whole records needed
    need = drawn | {i for shard in shards for i in shard.fresh}
    raw = {a.id: a for a in records.load(sorted(need | set(unsafe_ids)))}
    safe, unsafe = sanitise(raw.values())
    by_id = {a.id: a for a in safe}
    writer = Writer()
    for rel, data in assets:
        writer.write(safe_target(site, rel), data)
    fold_key = _fold_key()
    if full or previous.get("fold") != fold_key or "assets/fold.js" not in existing:  # the key covers its inputs
        writer.write(safe_target(site, "assets/fold.js"), fold_script().encode())

    math, failed = render_math([by_id[i] for i in sorted(drawn)], cache_dir, katex)
    fresh = {i: opening_html(by_id[i].excerpt, math[i]) for i in missing}
    openings.update(fresh)
    if kept is not None:
        site_openings.save(kept, base, ((shown[i], html) for i, html in fresh.items()))
    # Math problems of pages not drawn this time are remembered from earlier builds.
    known = {k: v for k, v in state.get("math_problems", {}).items() if k in layout.by_id and k not in math}
    known.update({aid: [[p.file, p.line, p.message] for p in found] for aid, found in failed.items()})
    math_problems = [Problem(f, line, "warning", m) for aid in sorted(known) for f, line, m in known[aid]]
    quality = quality_page(layout, [*problems, *unsafe, *math_problems])
    sigs = {p.path: p.sig for p in wanted}
    sigs[quality.path] = page_digest(base, quality)
    pages = [page(p, layout, by_id, openings) for p in todo]
    if old_pages.get(quality.path) != sigs[quality.path] or quality.path not in existing:
        pages.append(quality)

    env = environment(templates, cache_dir.parent / "jinja" if cache_dir is not None and pages else None)
    for one in pages:
        writer.write(safe_target(site, one.path), draw(env, one, math).encode())
    index_bytes, shard_files = write_shards(site, shards, raw, writer, state.get("shards", {}),
                                            functools.partial(safe_target, site))
    sigs.update(shard_sigs)
    removed = _remove_stale(site, set(planned_before) - set(sigs), writer)
    rows = {s.id: [*s.row(), _part_row(layout.parts.get(s.id))] for s in sorted(summaries, key=lambda s: s.id)}
    new_state = {"version": SITE_VERSION, "base": base, "pages": dict(sorted(sigs.items())), "fold": fold_key,
                 "articles": rows, "shards": shard_files, "math_problems": dict(sorted(known.items())),
                 "key": _digest(base, key) if key else None}
    writer.write(site / STATE, json.dumps(new_state, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())
    return SiteResult(
        pages=sum(1 for rel in sigs if not SHARD.fullmatch(rel)), rendered=len(pages), written=writer.written, removed=removed,
        math_errors=len(math_problems), index_bytes=index_bytes, problems=(*unsafe, *math_problems),
    )


def _safe_summaries(summaries: Iterable[Summary]) -> tuple[list[Summary], list[str]]:
    """Summaries fit for a page (as :func:`sanitise` makes records), and the ids no page can have."""
    kept, unsafe = [], []
    for s in summaries:
        if not SAFE_ID.fullmatch(s.id):
            unsafe.append(s.id)
            continue
        title = s.title and clean(s.title)
        if title != s.title or (s.aliases and not all(SAFE_ID.fullmatch(x) for x in s.aliases)):  # rare: copy only then
            s = replace(s, title=title, aliases=tuple(x for x in s.aliases if SAFE_ID.fullmatch(x)))
        kept.append(s)
    return kept, unsafe


def _parts(summaries: Sequence[Summary], old: Mapping[str, list[Any]]) -> dict[str, Part | None]:
    """Each title's series part, parsed again only when the title changed since the last render."""
    out: dict[str, Part | None] = {}
    for s in summaries:
        row = old.get(s.id)
        if row is not None and len(row) == 7 and row[1] == s.title:
            out[s.id] = Part(*row[6]) if row[6] else None
        else:
            out[s.id] = parse(s.title)
    return out


def _part_row(part: Part | None) -> list[Any] | None:
    return [part.name, part.key, part.number] if part else None


def _existing(site: Path) -> set[str]:
    """The files the site folder holds where pages go (a few directory scans, no stat per page)."""
    found: set[str] = set()
    for folder in ("", "articles", "page", "content", "series", "assets", "assets/search"):
        try:
            with os.scandir(site / folder) as entries:
                prefix = f"{folder}/" if folder else ""
                found.update(prefix + e.name for e in entries)  # folders too: no page path names one
        except (FileNotFoundError, NotADirectoryError):
            continue
    return found


def _changed(site: Path, pages: Sequence[Page], digests: Mapping[str, str], old: Mapping[str, str]) -> list[Page]:
    """The pages whose inputs differ from the last render (or whose file is gone)."""
    return [p for p in pages if old.get(p.path) != digests[p.path] or not safe_target(site, p.path).exists()]


def draw(env: Environment, page: Page, math: Mapping[str, Sequence[Rendered]]) -> str:
    """One page's HTML: the template, the context, and helpers that see the math."""
    depth = page.path.count("/")

    def body(item: Mapping[str, Any]) -> Any:
        return excerpt_html(item["excerpt"], math.get(item["id"], ()))

    template = env.get_template(page.template)
    return template.render(**page.context, path=page.path, root="../" * depth, body=body)


def _fold_key() -> str:
    """What the folding table depends on: Unicode data, OpenCC's table, the fold code.

    Deriving the table takes most of a second, so it is only redone when this changes.
    """
    from . import analysis  # the search module owns folding

    return _digest(unicodedata.unidata_version, Path(analysis.__file__).read_bytes(), analysis.opencc_version())


def _read_state(site: Path) -> dict[str, Any]:
    try:
        state = json.loads((site / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or not isinstance(state.get("pages", {}), dict):
        return {}
    return state


#: What version 1 of the site wrote outside its page list (its single search file).
_LEGACY = ["assets/search-index.js"]


def _remove_stale(site: Path, gone: Iterable[str], writer: Writer) -> int:
    """Delete pages of records that no longer exist (only paths we planned before)."""
    before = writer.removed
    for rel in sorted(gone):
        try:
            writer.remove(safe_target(site, rel))
        except ValueError:
            continue  # a tampered state file naming a path outside the site: never touch it
        except FileNotFoundError:
            continue  # a concurrent render removed it first
    return writer.removed - before
