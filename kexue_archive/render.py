"""Render the static site: plan the pages, draw those whose inputs changed, write.

The site works straight from disk (file://): every link is relative, the
search data is a script, KaTeX's CSS and fonts are copied in, and nothing is
requested from any network. Output is a pure function of the records, the
templates, the static assets and the KaTeX version, so the same archive gives
byte-identical files.

Incremental: ``.kexue-site.json`` in the site folder maps each page to the
digest of its inputs (template set, assets, context). A page whose digest is
unchanged and whose file exists is not drawn again; pages no longer planned
are removed. The state file is written last, so an interrupted render is
simply redone by the next build.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .archive import Writer
from .records import Article, Problem
from .site_math import katex_assets, katex_version, render_math
from .site_pages import SAFE_ID, Page, date_order, home_path, plan, quality_page
from .site_search import fold_script, index_script
from .site_text import Rendered, clean, excerpt_html, opening_html
from .tex import scan

#: Bump when the renderer changes what it writes: every page is drawn again.
SITE_VERSION = 1
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATE = ".kexue-site.json"
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


def environment(templates: Path = TEMPLATES) -> Environment:
    """Jinja with autoescape on for every template, whatever its name."""
    env = Environment(
        loader=FileSystemLoader(templates), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.globals["home_path"] = home_path
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


def unchanged(site: Path, key: str, templates: Path = TEMPLATES) -> SiteResult | None:
    """What the site holds when it was last rendered from the records ``key`` names
    (the archive manifest's digest), with this program, templates and assets, and
    every page is still there; else None. The build then need not even load the records."""
    state = load_state(site)
    if state.get("key") != _digest(inputs_digest(templates, static_assets()), key):
        return None
    pages = state.get("pages", {})
    if not all((site / rel).is_file() for rel in [*pages, "assets/search-index.js", "assets/fold.js"]):
        return None
    math_errors = sum(len(found) for found in state.get("math_problems", {}).values())
    index_bytes = (site / "assets/search-index.js").stat().st_size
    return SiteResult(len(pages), 0, 0, 0, math_errors, index_bytes, ())


def page_digest(base: str, page: Page) -> str:
    return _digest(base, page.template, json.dumps(page.context, sort_keys=True, ensure_ascii=False))


def render_site(site: Path, articles: Sequence[Article], problems: Sequence[Problem] = (), *,
                templates: Path = TEMPLATES, full: bool = False, cache_dir: Path | None = None,
                key: str | None = None) -> SiteResult:
    """Bring the site in ``site`` up to date with ``articles``; returns what it did.

    ``cache_dir`` keeps rendered math between builds (the archive's ``.cache/math``);
    ``key`` names the records (the archive manifest's digest) for :func:`unchanged`.
    """
    safe, unsafe = sanitise(articles)
    pages = plan(safe)
    assets = static_assets()
    base = inputs_digest(templates, assets)
    state = {} if full else load_state(site)
    old_pages: Mapping[str, str] = state.get("pages", {})
    writer = Writer()

    safe_ids = {a.id for a in safe}
    index_js = index_script(sorted((a for a in articles if a.id in safe_ids), key=date_order)).encode()
    for rel, data in [*assets, ("assets/search-index.js", index_js)]:
        writer.write(safe_target(site, rel), data)
    fold_key = _fold_key()
    if full or state.get("fold") != fold_key or not (site / "assets/fold.js").exists():
        writer.write(safe_target(site, "assets/fold.js"), fold_script().encode())

    digests = {p.path: page_digest(base, p) for p in pages}
    todo = _changed(site, pages, digests, old_pages)
    by_id = {a.id: a for a in safe}
    math, failed = render_math([by_id[i] for i in sorted({i for p in todo for i in p.math})], cache_dir)
    # Math problems of pages not drawn this time are remembered from earlier builds.
    known = {k: v for k, v in state.get("math_problems", {}).items() if k in by_id and k not in math}
    known.update({aid: [[p.file, p.line, p.message] for p in found] for aid, found in failed.items()})
    math_problems = [Problem(f, line, "warning", m) for aid in sorted(known) for f, line, m in known[aid]]
    quality = quality_page(sorted(safe, key=date_order), [*problems, *unsafe, *math_problems])
    pages.append(quality)
    digests[quality.path] = page_digest(base, quality)
    todo += _changed(site, [quality], digests, old_pages)

    env = environment(templates)
    for page in todo:
        writer.write(safe_target(site, page.path), draw(env, page, math).encode())
    removed = _remove_stale(site, set(old_pages) - set(digests), writer)
    new_state = {"version": SITE_VERSION, "pages": dict(sorted(digests.items())), "fold": fold_key,
                 "math_problems": dict(sorted(known.items())), "key": _digest(base, key) if key else None}
    writer.write(site / STATE, json.dumps(new_state, indent=0, sort_keys=True, ensure_ascii=False).encode())
    return SiteResult(
        pages=len(pages), rendered=len(todo), written=writer.written, removed=removed,
        math_errors=len(math_problems), index_bytes=len(index_js), problems=(*unsafe, *math_problems),
    )


def _changed(site: Path, pages: Sequence[Page], digests: Mapping[str, str], old: Mapping[str, str]) -> list[Page]:
    """The pages whose inputs differ from the last render (or whose file is gone)."""
    return [p for p in pages if old.get(p.path) != digests[p.path] or not safe_target(site, p.path).exists()]


def draw(env: Environment, page: Page, math: Mapping[str, Sequence[Rendered]]) -> str:
    """One page's HTML: the template, the context, and helpers that see the math."""
    depth = page.path.count("/")

    def body(item: Mapping[str, Any]) -> Any:
        return excerpt_html(item["excerpt"], math.get(item["id"], ()))

    def opening(item: Mapping[str, Any]) -> Any:
        return opening_html(item["excerpt"], math.get(item["id"], ()))

    template = env.get_template(page.template)
    return template.render(**page.context, path=page.path, root="../" * depth, body=body, opening=opening)


def _fold_key() -> str:
    """What the folding table depends on: Unicode data, OpenCC's table, the fold code.

    Deriving the table takes most of a second, so it is only redone when this changes.
    """
    from . import analysis  # the search module owns folding

    return _digest(unicodedata.unidata_version, Path(analysis.__file__).read_bytes(), _opencc_version())


def _opencc_version() -> str:
    try:
        return version("opencc")
    except PackageNotFoundError:
        return "unknown"


def load_state(site: Path) -> dict[str, Any]:
    try:
        state = json.loads((site / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) and state.get("version") == SITE_VERSION else {}


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
