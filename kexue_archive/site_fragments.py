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
what a piece depends on (a record's digest; a section's rows) and by the
digest of everything every page depends on (the program, the templates and
assets, KaTeX's version). When that last digest changes, the cache is emptied.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
"""


@contextmanager
def _cache(path: Path, base: str) -> Iterator[sqlite3.Connection]:
    """The cache at ``path``, emptied unless it holds pieces made under ``base`` (started afresh if damaged)."""
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
            path.with_name(_OLD_NAME).unlink(missing_ok=True)  # what this cache was called before it held sections
            with db:  # one transaction: all or nothing
                db.execute("BEGIN")
                db.execute("DELETE FROM fragments")
                db.execute("DELETE FROM base")
                db.execute("INSERT INTO base VALUES (?)", (base,))
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _key(base: str, digest: str) -> str:
    return hashlib.sha256(f"{base}\0{digest}".encode()).hexdigest()


def load(path: Path, base: str, digests: Mapping[str, str]) -> dict[str, Markup]:
    """The pieces held for these names (name -> the digest of what the piece shows); names without one are left out."""
    keys = {_key(base, d): aid for aid, d in digests.items()}
    found: dict[str, Markup] = {}
    wanted = list(keys)
    with _cache(path, base) as db:
        for at in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            chunk = wanted[at:at + 500]
            rows = db.execute(f"SELECT key, html FROM fragments WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update((keys[k], Markup(html)) for k, html in rows)
    return found


def clear(path: Path, base: str) -> None:
    """Forget every piece (a full render draws them all again)."""
    with _cache(path, base) as db, db:
        db.execute("BEGIN")
        db.execute("DELETE FROM fragments")


def save(path: Path, base: str, items: Iterable[tuple[str, str]]) -> None:
    """Keep (digest, HTML) pairs."""
    rows = [(_key(base, digest), str(html)) for digest, html in items]
    if not rows:
        return
    with _cache(path, base) as db, db:
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO fragments VALUES (?, ?)", rows)


def section_digest(month: Mapping[str, Any], root: str) -> str:
    """What a month section of a year page shows: its rows (as the page's context has them) and its links' root."""
    return hashlib.sha256(json.dumps(["section", root, month], sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sections(env: Environment, months: Sequence[tuple[Mapping[str, Any], str]], path: Path | None,
             base: str) -> dict[str, Markup]:
    """The HTML of these (month, root) sections by :func:`section_digest`: kept ones from
    ``path`` (when given), the rest drawn with the section template and kept."""
    digests = {section_digest(m, root): (m, root) for m, root in months}
    out = load(path, base, {d: d for d in digests}) if path is not None else {}
    fresh = {d: draw_section(env, m, root) for d, (m, root) in sorted(digests.items()) if d not in out}
    if path is not None:
        save(path, base, fresh.items())
    return {**out, **fresh}


def draw_section(env: Environment, month: Mapping[str, Any], root: str) -> Markup:
    return Markup(env.get_template(SECTION).render(m=month, root=root))
