"""Pieces of pages kept between builds, so that a page redrawn for one new
article does not redo the parts the article does not touch.

- **Card openings.** A card (home page, month pages, series pages) shows the
  start of its article's excerpt with the inline math rendered. Drawing one
  needs the whole record and its math, so a month page redrawn for one new
  article would load and render ~50 records for the cards that had not changed.
- **Month sections of year pages.** A year page lists every article of the
  year (hundreds of rows in a large archive), one section a month; one new
  article changes one section, and the other eleven are taken from here.

They are kept in a small SQLite file under the archive's ``.cache``, keyed by
what a piece shows (a record's id, excerpt and formulas, not its reader count;
a section's rows) and by the digest of everything every page depends on (the
program, the templates and assets, KaTeX's version). When that last digest
changes, the cache is emptied.

A piece is superseded whenever what it shows changes (a re-crawl that only
updates reader counts supersedes every section listing them), so the cache
counts the pieces it holds, and once they are more than twice what the site
shows it drops every piece no page shows (:meth:`Kept.tidy`): it stays within
about twice the size of the pieces in use, and the work is spread over the builds.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

#: Where the pieces are kept, beside the math cache in the archive's ``.cache``.
FRAGMENTS = "fragments.sqlite"
#: The name of this cache while it held only openings.
_OLD_NAME = "openings.sqlite"
#: The template of one month of a year page.
SECTION = "_year_month.html"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS base (digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fragments (key TEXT PRIMARY KEY, html TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS held (one INTEGER PRIMARY KEY CHECK (one = 1), pieces INTEGER NOT NULL);
"""


class Kept:
    """The pieces kept under one base digest, open for one render; with no database, nothing is kept."""

    def __init__(self, db: sqlite3.Connection | None, base: str) -> None:
        self.db, self.base = db, base

    def load(self, digests: Mapping[str, str]) -> dict[str, Markup]:
        """The pieces held for these names (name -> the digest of what the piece shows); names without one are left out."""
        if self.db is None:
            return {}
        keys = {_key(self.base, d): name for name, d in digests.items()}
        found: dict[str, Markup] = {}
        wanted = list(keys)
        for at in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            chunk = wanted[at:at + 500]
            rows = self.db.execute(f"SELECT key, html FROM fragments WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update((keys[k], Markup(html)) for k, html in rows)
        return found

    def save(self, items: Iterable[tuple[str, str]]) -> None:
        """Keep (digest, HTML) pairs."""
        rows = [(_key(self.base, digest), str(html)) for digest, html in items]
        if self.db is None or not rows:
            return
        with self.db:
            self.db.execute("BEGIN")
            # a key is a digest of what the piece shows: one already held is the same piece
            added = self.db.executemany("INSERT OR IGNORE INTO fragments VALUES (?, ?)", rows).rowcount
            self.db.execute("UPDATE held SET pieces = pieces + ?", (added,))

    def tidy(self, shown: int, live: Callable[[], Iterable[str]]) -> int:
        """Once the cache holds more than twice the ``shown`` pieces the site shows, drop every
        piece but the ``live`` ones (their digests, worked out only then); returns how many went."""
        if self.db is None or self.db.execute("SELECT pieces FROM held").fetchone()[0] <= 2 * shown:
            return 0
        keep = [(_key(self.base, digest),) for digest in live()]
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY) WITHOUT ROWID")
            self.db.execute("DELETE FROM live")
            self.db.executemany("INSERT OR IGNORE INTO live VALUES (?)", keep)
            dropped = self.db.execute("DELETE FROM fragments WHERE key NOT IN (SELECT key FROM live)").rowcount
            self.db.execute("UPDATE held SET pieces = (SELECT count(*) FROM fragments)")
            self.db.execute("DROP TABLE live")
        return int(dropped)


@contextmanager
def kept(path: Path | None, base: str, *, clear: bool = False) -> Iterator[Kept]:
    """The cache at ``path`` (none when None), emptied unless it holds pieces made under
    ``base``, or when ``clear`` (a full render takes nothing from it); started afresh if damaged."""
    if path is None:
        yield Kept(None, base)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = _open(path, base, clear)
    except sqlite3.DatabaseError:  # damaged: it is only a cache
        for damaged in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
            damaged.unlink(missing_ok=True)
        db = _open(path, base, clear)
    try:
        yield Kept(db, base)
    finally:
        db.close()


def _open(path: Path, base: str, clear: bool) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        # a write-ahead log, synced at checkpoints only: a cache need not wait for the disk at every
        # commit, and a crash still leaves it consistent (at worst without the last pieces)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        db.execute("INSERT OR IGNORE INTO held SELECT 1, count(*) FROM fragments")  # new, or from before the count
        stored = db.execute("SELECT digest FROM base").fetchone()
        if clear or stored is None or stored[0] != base:
            path.with_name(_OLD_NAME).unlink(missing_ok=True)  # what this cache was called before it held sections
            with db:  # one transaction: all or nothing
                db.execute("BEGIN")
                db.execute("DELETE FROM fragments")
                db.execute("UPDATE held SET pieces = 0")
                db.execute("DELETE FROM base")
                db.execute("INSERT INTO base VALUES (?)", (base,))
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _key(base: str, digest: str) -> str:
    return hashlib.sha256(f"{base}\0{digest}".encode()).hexdigest()


def section_digest(month: Mapping[str, Any], root: str) -> str:
    """What a month section of a year page shows: its rows (their signature,
    ``site_layout.Layout.sections``) and its links' root."""
    return f"section/{root}/{month['sig']}"


def sections(env: Environment, months: Sequence[tuple[Mapping[str, Any], str]], cache: Kept) -> dict[str, Markup]:
    """The HTML of these (month, root) sections by :func:`section_digest`: kept ones from
    the cache, the rest drawn with the section template and kept."""
    digests = {section_digest(m, root): (m, root) for m, root in months}
    out = cache.load({d: d for d in digests})
    fresh = {d: draw_section(env, m, root) for d, (m, root) in sorted(digests.items()) if d not in out}
    cache.save(fresh.items())
    return {**out, **fresh}


def draw_section(env: Environment, month: Mapping[str, Any], root: str) -> Markup:
    return Markup(env.get_template(SECTION).render(m=month, root=root))
