"""Render the static site: plan the pages, draw those whose inputs changed, write.

The site works straight from disk (file://): every link is relative, the
search data is a script, KaTeX's CSS and fonts are copied in, and nothing is
requested from any network. Output is a pure function of the records, the
templates, the static assets and the KaTeX version, so the same archive gives
byte-identical files.

Incremental: ``.kexue-site.json`` in the site folder holds a summary of every
record and each page's signature (:mod:`site_layout`), both computed from
summaries alone. The records whose summaries changed name the pages whose
signatures can change (:mod:`site_plan`); the rest keep theirs. A page whose
signature is unchanged and whose file exists is not drawn again, and only the
records of pages that are drawn are loaded; pages no longer planned are
removed. A program, template or asset change draws everything. The state
file (:mod:`site_state`) is written last, so an interrupted render is simply
redone by the next build.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from . import site_fragments
from .archive import Writer
from .katex_node import Started, prestarted
from .records import Article, Problem
from .site_layout import SHARD, Layout, year_path
from .site_math import render_math
from .site_pages import Page, cards, page, quality_page
from .site_plan import changes, plan
from .site_records import Records, part_row, parts, safe_summaries, sanitise
from .site_search import fold_script
from .site_shards import plan_shards, write_shards
from .site_state import SITE_VERSION, STATE, TEMPLATES, Look, SiteResult, digest, look
from .site_text import Rendered, excerpt_html, opening_html

if TYPE_CHECKING:
    from .progress import Progress

#: The template of year pages, whose month sections are kept between builds.
YEAR = "content_year.html"
_SAFE_PATH = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*")


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


def page_digest(base: str, page: Page) -> str:
    return digest(base, page.template, json.dumps(page.context, sort_keys=True, ensure_ascii=False))


def render_site(site: Path, articles: Sequence[Article] | Records, problems: Sequence[Problem] = (), *,
                templates: Path = TEMPLATES, full: bool = False, cache_dir: Path | None = None,
                key: str | None = None, found: Look | None = None, katex: Started | None = None,
                progress: Progress | None = None) -> SiteResult:
    """Bring the site in ``site`` up to date with the records; returns what it did.

    ``articles`` is every record, or (from the build) :class:`Records`: summaries plus a
    loader, so that only the records whose pages are drawn are decoded.
    ``cache_dir`` keeps rendered math between builds (the archive's ``.cache/math``);
    ``key`` names the records (the archive manifest's digest) for :func:`unchanged`;
    ``found``, the site as :func:`look` found it just before (else it is looked at here);
    ``katex``, Node already loading KaTeX for this render (the caller stops it), else a
    rebuild starts its own here; ``progress``, shown while the math and the pages are drawn.
    """
    records = articles if isinstance(articles, Records) else Records.of(articles)
    found = found or look(site, templates)
    if (found.site, found.templates) != (site, templates):
        raise ValueError(f"a look at {found.site} with {found.templates} given for {site} with {templates}")
    # A rebuild starts Node now: KaTeX loads (~0.15 s) while the pages are planned, not after
    pieces = cache_dir.parent / site_fragments.FRAGMENTS if cache_dir is not None else None  # beside the math cache
    starting = nullcontext(katex) if katex is not None or not found.state else prestarted()
    with starting as katex, site_fragments.kept(pieces, found.base, clear=full) as cache:
        return _render(site, records, problems, templates, full, cache_dir, key, found, katex, cache, progress)


def _render(site: Path, records: Records, problems: Sequence[Problem], templates: Path, full: bool,
            cache_dir: Path | None, key: str | None, found: Look, katex: Started | None,
            cache: site_fragments.Kept, progress: Progress | None) -> SiteResult:
    assets, base, existing = found.assets, found.base, found.files
    previous = found.state  # whatever version: its pages are the ones to remove if no longer planned
    state = {} if full or previous.get("version") != SITE_VERSION else previous
    if state.get("base") != base:
        state = {}  # program, templates or assets changed: every page is drawn again
    old_pages: Mapping[str, str] = state.get("pages", {})
    planned_before = [rel for rel in previous.get("pages", {}) if isinstance(rel, str)] + _LEGACY
    old_rows: Mapping[str, list[Any]] = state.get("articles", {})
    summaries, unsafe_ids = safe_summaries(records.summaries)
    layout = Layout(summaries, parts(summaries, old_rows))
    change = changes(layout, old_rows)
    sigs, worked = plan(layout, old_rows, old_pages, existing, change)  # the pages a change touches, or all
    todo = [p for p in worked if old_pages.get(p.path) != p.sig or p.path not in existing]
    shard_sigs, shards = plan_shards(site, layout, state, existing, change[0] | change[1])
    shown = {i: layout.by_id[i].opening for p in todo for i in cards(p)}
    openings = cache.load(shown)
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

    math, failed = render_math([by_id[i] for i in sorted(drawn)], cache_dir, katex, full=full, progress=progress)
    fresh = {i: opening_html(by_id[i].excerpt, math[i]) for i in missing}
    openings.update(fresh)
    cache.save((shown[i], html) for i, html in fresh.items())
    # Math problems of pages not drawn this time are remembered from earlier builds.
    known = {k: v for k, v in state.get("math_problems", {}).items() if k in layout.by_id and k not in math}
    known.update({aid: [[p.file, p.line, p.message] for p in found] for aid, found in failed.items()})
    math_problems = [Problem(f, line, "warning", m) for aid in sorted(known) for f, line, m in known[aid]]
    quality = quality_page(layout, [*problems, *unsafe, *math_problems])
    sigs[quality.path] = page_digest(base, quality)
    pages = [page(p, layout, by_id, openings) for p in todo]
    if old_pages.get(quality.path) != sigs[quality.path] or quality.path not in existing:
        pages.append(quality)

    env = environment(templates, cache_dir.parent / "jinja" if cache_dir is not None and pages else None)
    months = [(m, _root(p.path)) for p in pages if p.template == YEAR for m in p.context["months"]]
    sections = site_fragments.sections(env, months, cache) if months else {}
    for one in pages if progress is None else progress(pages, "pages", len(pages)):
        writer.write(safe_target(site, one.path), draw(env, one, math, sections).encode())
    index_bytes, shard_files = write_shards(site, shards, raw, writer, state.get("shards", {}),
                                            functools.partial(safe_target, site))
    sigs.update(shard_sigs)
    removed = _remove_stale(site, set(planned_before) - set(sigs), writer)
    cache.tidy(len(layout.ordered) + len(layout.months), functools.partial(_pieces, layout))
    rows = {s.id: [*s.row(), part_row(layout.parts.get(s.id))] for s in sorted(summaries, key=lambda s: s.id)}
    new_state = {"version": SITE_VERSION, "base": base, "pages": dict(sorted(sigs.items())), "fold": fold_key,
                 "articles": rows, "shards": shard_files, "math_problems": dict(sorted(known.items())),
                 "key": digest(base, key) if key else None}
    writer.write(site / STATE, json.dumps(new_state, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())
    return SiteResult(
        pages=sum(1 for rel in sigs if not SHARD.fullmatch(rel)), rendered=len(pages), written=writer.written, removed=removed,
        math_errors=len(math_problems), index_bytes=index_bytes, problems=(*unsafe, *math_problems),
    )


def draw(env: Environment, page: Page, math: Mapping[str, Sequence[Rendered]], sections: Mapping[str, Markup]) -> str:
    """One page's HTML: the template, the context, and helpers that see the math
    and the year pages' month sections (``site_fragments.sections``)."""
    root = _root(page.path)

    def body(item: Mapping[str, Any]) -> Any:
        return excerpt_html(item["excerpt"], math.get(item["id"], ()))

    def section(month: Mapping[str, Any]) -> Markup:
        return sections[site_fragments.section_digest(month, root)]

    template = env.get_template(page.template)
    return template.render(**page.context, path=page.path, root=root, body=body, section=section)


def _pieces(layout: Layout) -> Iterator[str]:
    """The digests of the pieces the site shows (``site_fragments``): every record's card
    opening, every month section of the year pages."""
    for s in layout.ordered:
        yield s.opening
    for year in layout.year_keys():
        root = _root(year_path(year))
        for section in layout.sections(year)[0]:
            yield site_fragments.section_digest({"sig": section.sig}, root)


def _root(path: str) -> str:
    """The way from a page back to the site's root folder."""
    return "../" * path.count("/")


def _fold_key() -> str:
    """What the folding table depends on: Unicode data, OpenCC's table, the fold code.

    Deriving the table takes most of a second, so it is only redone when this changes.
    """
    from . import analysis  # the search module owns folding

    return digest(unicodedata.unidata_version, Path(analysis.__file__).read_bytes(), analysis.opencc_version())


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
