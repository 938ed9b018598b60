"""Where the index lives and how it is opened: shared by updates (``index``) and searches (``searching``).

Next to Whoosh's files the index folder keeps ``kexue-index.json`` and
``digests.json`` (what was indexed for each record id, and Whoosh's files as
they were then). ``kexue-index.json`` is all a search reads besides the
segments' files (``reading``): the schema version, the traditional ->
simplified table the index was folded with, BM25's mean field lengths, the
segments with their deleted documents, and Whoosh's files as they were when
it was written. Updates open the index through Whoosh; searches never import it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..analysis import Folder
from .reading import SegmentInfo, Snapshot

#: Bump when the schema, the analyzer or the folding changes: older indexes are rebuilt.
SCHEMA_VERSION = 10
TITLE_BOOST = 3.0
TEXT_FIELDS = ("title", "excerpt", "math", "author")
#: Columns of numbers (their ``struct`` typecodes), read whole by ``reading.Snapshot.column``: ranks for
#: sorting, BM25's lengths in characters, the year and day (YYYYMMDD) filters compare; 0 where unknown.
NUMERIC_COLUMNS = {"date_rank": "q", "readers_rank": "q", "year": "i", "day": "i", **{f"{name}_len": "i" for name in TEXT_FIELDS}}
META, DIGESTS = "kexue-index.json", "digests.json"
STALE = "the build (`kexue-archive build` or `python build_site.py`) creates or rebuilds the index"


def index_dir(root: Path) -> Path:
    return root / "index"


def load_whoosh(*modules: str) -> None:
    """Import Whoosh's ``modules`` (by default what opening an index needs), without three imports it makes that we never use.

    whoosh-reloaded 2.7.5 imports the ``cached_property`` package (which
    imports asyncio: ~35 ms) for one property, ``urllib.request`` (~25 ms)
    for a download helper nothing calls, and ``whoosh.lang.morph_en`` (~10 ms
    of regex compiling) for the English ``Variations`` query we never build.
    Together they were over a third of a cold ``search``. While Whoosh is imported, ``functools.cached_property``
    (the standard-library equivalent) and a stub stand in for them; the stand-ins
    are then taken out of ``sys.modules``, so any later import gets the real ones.
    A search imports ``whoosh.query`` and ``whoosh.searching`` only for date filters.
    """
    import importlib
    import sys

    # whoosh.reading (which imports cached_property) comes with the codec our segments module uses
    wanted = [m for m in modules or ("whoosh.index", "whoosh.codec.whoosh3") if m not in sys.modules]
    if not wanted:
        return
    import functools
    import types

    stand_ins = {name: types.ModuleType(name) for name in ("cached_property", "urllib.request", "whoosh.lang.morph_en")}
    stand_ins["cached_property"].cached_property = functools.cached_property  # type: ignore[attr-defined]  # module stub
    stand_ins["urllib.request"].urlretrieve = _unused  # type: ignore[attr-defined]  # module stub
    stand_ins["whoosh.lang.morph_en"].variations = _unused  # type: ignore[attr-defined]  # module stub
    added = [name for name in stand_ins if name not in sys.modules]
    sys.modules.update({name: stand_ins[name] for name in added})
    try:
        for module in wanted:
            importlib.import_module(module)
    finally:
        for name in added:
            if sys.modules.get(name) is stand_ins[name]:
                del sys.modules[name]


def _unused(*_: Any, **__: Any) -> None:
    raise RuntimeError("a Whoosh feature kexue-archive does not use (downloads, English word variations)")


def read_meta(root: Path) -> dict[str, Any]:
    try:
        meta = json.loads((index_dir(root) / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def open_index(root: Path) -> Any:
    """The Whoosh index, or None when it is missing, unreadable or of another version."""
    if read_meta(root).get("schema") != SCHEMA_VERSION:
        return None
    try:
        load_whoosh()
        from whoosh import index as wix

        return wix.open_dir(str(index_dir(root)))
    except Exception:  # any failure to read it (missing, truncated, foreign pickle) means "rebuild"
        return None


def open_snapshot(root: Path, files: list[list[Any]]) -> tuple[Snapshot, Folder, dict[str, float]] | None:
    """The index as ``kexue-index.json`` describes it, its folding and mean field lengths; None when
    it is missing, of another version, or its files (``files``: :func:`whoosh_files` now) are not the
    ones described (a build is needed)."""
    meta = read_meta(root)
    try:
        if meta.get("schema") != SCHEMA_VERSION or meta["files"] != files:
            return None
        infos = [SegmentInfo(s["name"], int(s["docs"]), frozenset(s["deleted"])) for s in meta["segments"]]
        return Snapshot(index_dir(root), infos, NUMERIC_COLUMNS), Folder(dict(meta["t2s"])), dict(meta["averages"])
    except (KeyError, TypeError, ValueError):
        return None


def whoosh_files(root: Path) -> list[list[Any]]:
    """Whoosh's files as (name, size, mtime_ns): if they are as we left them, the index is whole."""
    try:
        entries = sorted(os.scandir(index_dir(root)), key=lambda e: e.name)
    except OSError:
        return []
    return [[e.name, e.stat().st_size, e.stat().st_mtime_ns] for e in entries if e.is_file() and e.name not in (META, DIGESTS)]
