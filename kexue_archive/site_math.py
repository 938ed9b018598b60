"""The site's side of math rendering: one batched call per build, and KaTeX's assets.

The renderer itself (KaTeX in one Node process per build, with its cache)
is :mod:`kexue_archive.mathrender`; this module only asks it for the
articles whose pages are drawn, and copies KaTeX's CSS and fonts into the site.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from . import katex_node, mathrender
from .katex_node import Started
from .mathrender import RenderedMath
from .records import Article, Problem


def render_math(
    articles: Sequence[Article], cache_dir: Path | None = None, started: Started | None = None, *, full: bool = False
) -> tuple[dict[str, list[RenderedMath]], dict[str, list[Problem]]]:
    """Every formula of every article, rendered in :func:`tex.scan` order, and
    each article's Problems (one per formula shown as TeX).

    ``full``: ``articles`` is every record; nothing is taken from the cache, and
    afterwards the cache keeps only what these articles would read (an edited
    article leaves its older entry behind until then)."""
    if full and cache_dir is not None:
        mathrender.prune_cache(cache_dir, articles)
    if not any(a.math for a in articles):
        return {a.id: [] for a in articles}, {}
    rendered = mathrender.render_articles(list(articles), cache_dir=cache_dir, started=started, reuse=not full)
    failed = {a.id: mathrender.math_problems([a], rendered) for a in articles if not all(r.ok for r in rendered[a.id])}
    return dict(rendered), failed


def katex_version() -> str:
    """The installed KaTeX version: part of every page's digest."""
    return katex_node.katex_version()


def katex_assets() -> Iterator[tuple[str, bytes]]:
    """(site path, bytes) of KaTeX's stylesheet and fonts.

    Only the WOFF2 fonts are shipped: the stylesheet lists them first and every
    browser the site targets reads WOFF2, so the WOFF/TTF copies would never load.
    """
    dist = katex_node.katex_dist()
    yield "assets/katex/katex.min.css", (dist / "katex.min.css").read_bytes()
    for font in sorted((dist / "fonts").glob("*.woff2")):
        yield f"assets/katex/fonts/{font.name}", font.read_bytes()
