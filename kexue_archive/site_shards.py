"""The search data's shards: which changed, and writing them while keeping unchanged lines.

Each shard (``assets/search/NN.js``) holds the items of the articles whose id
hashes to it, one a line, sorted by id. A shard whose members' record digests
changed is written again; the lines of members that did not change are taken
from the old file, but only when that file is the very one the last render
wrote (its digest is in the site state), so a damaged or half-written shard is
rebuilt from the records.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .archive import Writer
from .records import Article
from .site_layout import SHARD, SHARDS, Layout, Summary, shard_of, shard_path, sign
from .site_search import item_line, shard_lines, shard_script


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Shard:
    """A search shard to write: its members, the lines it can keep, the ids needing a fresh line."""

    path: str
    sig: str
    members: Sequence[Summary]
    lines: Mapping[str, str]
    fresh: frozenset[str]


def plan_shards(site: Path, layout: Layout, state: Mapping[str, Any], existing: set[str],
                moved: Iterable[str]) -> tuple[dict[str, str], list[Shard]]:
    """The search shards that changed (``moved``: the ids new, changed or gone since the last render).
    Lines of unchanged records are kept from the old file, but only when it is the very file the
    last render wrote (its digest matches)."""
    old_rows: Mapping[str, list[Any]] = state.get("articles", {})
    old_pages: Mapping[str, str] = state.get("pages", {})
    old_files: Mapping[str, str] = state.get("shards", {})
    touched = {shard_of(i) for i in moved}
    out, sigs = [], {}
    for n, members in enumerate(layout.shards()):
        path = shard_path(n)
        if n not in touched and path in old_pages and path in existing:  # no member came, went or changed
            sigs[path] = old_pages[path]
            continue
        sig = sigs[path] = sign([(s.id, s.digest) for s in members])
        if old_pages.get(path) == sig and path in existing:
            continue
        lines = old_lines(site / path, old_files.get(path)) if path in existing else {}
        fresh = frozenset(s.id for s in members if s.id not in lines or (old_rows.get(s.id) or [None])[0] != s.digest)
        out.append(Shard(path, sig, members, lines, fresh))
    return sigs, out


def write_shards(site: Path, shards: Sequence[Shard], raw: Mapping[str, Article], writer: Writer,
                 old_files: Mapping[str, str], target: Callable[[str], Path]) -> tuple[int, dict[str, str]]:
    """Write the changed shards; returns the search data's total size and each file's digest."""
    files = {path: digest for path, digest in old_files.items() if SHARD.fullmatch(path)}
    for shard in shards:
        lines = [item_line(raw[s.id]) if s.id in shard.fresh else shard.lines[s.id] for s in shard.members]
        data = shard_script(lines).encode()
        writer.write(target(shard.path), data)
        files[shard.path] = file_digest(data)
    sizes = 0
    for n in range(SHARDS):
        with contextlib.suppress(OSError):
            sizes += (site / shard_path(n)).stat().st_size
    return sizes, dict(sorted(files.items()))




def old_lines(path: Path, digest: str | None) -> dict[str, str]:
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if digest != file_digest(data):
        return {}
    return shard_lines(data.decode("utf-8")) or {}
