"""The openings that cards show, kept between builds.

A card (home page, month pages, series pages) shows the start of its
article's excerpt with the inline math rendered. Drawing one needs the whole
record and its math, so a month page redrawn for one new article used to load
and render ~50 records for the cards that had not changed. ``render`` keeps
the openings here instead, in a small SQLite file under the archive's
``.cache``, keyed by what an opening depends on: the record's digest and the
digest of everything every page depends on (the program, the templates and
assets, KaTeX's version). When that last digest changes, the cache is emptied.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from markupsafe import Markup

_SCHEMA = """
CREATE TABLE IF NOT EXISTS base (digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS openings (key TEXT PRIMARY KEY, html TEXT NOT NULL) WITHOUT ROWID;
"""


@contextmanager
def _cache(path: Path, base: str) -> Iterator[sqlite3.Connection]:
    """The cache at ``path``, emptied unless it holds openings made under ``base`` (started afresh if damaged)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = _open(path, base)
    except sqlite3.DatabaseError:  # damaged: it is only a cache
        path.unlink(missing_ok=True)
        db = _open(path, base)
    try:
        yield db
    finally:
        db.close()


def _open(path: Path, base: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.executescript(_SCHEMA)
        stored = db.execute("SELECT digest FROM base").fetchone()
        if stored is None or stored[0] != base:
            with db:  # one transaction: all or nothing
                db.execute("BEGIN")
                db.execute("DELETE FROM openings")
                db.execute("DELETE FROM base")
                db.execute("INSERT INTO base VALUES (?)", (base,))
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _key(base: str, digest: str) -> str:
    return hashlib.sha256(f"{base}\0{digest}".encode()).hexdigest()


def load(path: Path, base: str, digests: Mapping[str, str]) -> dict[str, Markup]:
    """The openings held for these records (id -> record digest); records without one are left out."""
    keys = {_key(base, d): aid for aid, d in digests.items()}
    found: dict[str, Markup] = {}
    wanted = list(keys)
    with _cache(path, base) as db:
        for at in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            chunk = wanted[at:at + 500]
            rows = db.execute(f"SELECT key, html FROM openings WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update((keys[k], Markup(html)) for k, html in rows)
    return found


def save(path: Path, base: str, items: Iterable[tuple[str, str]]) -> None:
    """Keep (record digest, opening HTML) pairs."""
    rows = [(_key(base, digest), str(html)) for digest, html in items]
    if not rows:
        return
    with _cache(path, base) as db, db:
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO openings VALUES (?, ?)", rows)
