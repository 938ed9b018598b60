"""The site's side of math rendering: one batched call per build, and KaTeX's assets.

The renderer itself (KaTeX in one Node process per build, with its cache)
is :mod:`kexue_archive.mathrender`; this module only asks it for the
articles whose pages are drawn (KaTeX's CSS and fonts: ``katex_node.katex_assets``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import mathrender
from .katex_node import Started
from .mathrender import RenderedMath
from .records import Article, Problem

if TYPE_CHECKING:
    from .progress import Progress


def render_math(
    articles: Sequence[Article], cache_dir: Path | None = None, started: Started | None = None, *, full: bool = False,
    progress: Progress | None = None,
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
    rendered = mathrender.render_articles(list(articles), cache_dir=cache_dir, started=started, reuse=not full,
                                           progress=progress)
    failed = {a.id: mathrender.math_problems([a], rendered) for a in articles if not all(r.ok for r in rendered[a.id])}
    return dict(rendered), failed
