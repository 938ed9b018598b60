"""The site as a build finds it: its state file, the files where pages go, and
the digest of everything every page depends on; and whether it is up to date.

A build that finds nothing new asks :func:`unchanged` before anything else, so
this module imports neither Jinja nor Markdown nor the math: a no-op rebuild
does not pay for the renderer (:mod:`render`), which reads what :func:`look`
found instead of looking again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .katex_node import katex_assets, katex_version
from .records import Problem
from .site_layout import SHARD

#: Bump when the renderer changes what it writes: every page is drawn again.
SITE_VERSION = 3  # 2: month and year pages, search shards, record summaries in the state; 3: opening digests
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: The site's state file, written last by every render.
STATE = ".kexue-site.json"


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


def static_assets() -> list[tuple[str, bytes]]:
    """The site's own CSS and JS (package data), then KaTeX's."""
    static = resources.files("kexue_archive") / "static"
    own = [(f"assets/{f.name}", f.read_bytes()) for f in sorted(static.iterdir(), key=lambda f: f.name) if f.is_file()]
    return own + list(katex_assets())


def digest(*parts: str | bytes) -> str:
    """A digest of strings and bytes, each ended by a NUL."""
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
    return digest(*parts)


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
    if state.get("key") != digest(found.base, key):
        return None
    pages, site = state.get("pages", {}), found.site
    if not all(rel in found.files for rel in [*pages, "assets/fold.js"]):
        return None
    math_errors = sum(len(found) for found in state.get("math_problems", {}).values())
    index_bytes = sum((site / rel).stat().st_size for rel in pages if SHARD.fullmatch(rel))
    return SiteResult(sum(1 for rel in pages if not SHARD.fullmatch(rel)), 0, 0, 0, math_errors, index_bytes, ())


def _read_state(site: Path) -> dict[str, Any]:
    try:
        state = json.loads((site / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or not isinstance(state.get("pages", {}), dict):
        return {}
    return state


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
