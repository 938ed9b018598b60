"""The build state: the archive indexed for incremental work. A derived cache.

``archive/.cache/state.sqlite`` holds every sighting (by title key and by
day/month, the two things the merge matches on), which article each belongs
to, a digest of every record, and a *generation* number bumped by each build
that changed something. So a build with new dumps regroups only the sightings
the new ones can touch, and each later stage (index, site) asks "what changed
since the generation I last applied?" instead of looking at everything.

It is a cache: deleted, it is rebuilt from the committed ledgers. One SQLite
transaction per build makes it change all at once or not at all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .archive import article_dict, article_from_dict
from .records import Article, Problem, Sighting
from .sources import HashCache
from .text import title_key

#: Bump when the tables below change; an old cache is then rebuilt.
SCHEMA = 3  # 2: title, date and readers columns for the site's summaries; 3: the opening digest

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE dumps (sha TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT, sightings INTEGER NOT NULL);
CREATE TABLE problems (dump TEXT NOT NULL, line INTEGER, severity TEXT, message TEXT);
CREATE TABLE sightings (
    id INTEGER PRIMARY KEY, dump TEXT NOT NULL, title_key TEXT, md TEXT, article TEXT NOT NULL,
    sid TEXT NOT NULL, json TEXT NOT NULL
);
CREATE INDEX sightings_sid ON sightings (sid);
CREATE INDEX sightings_key ON sightings (title_key);
CREATE INDEX sightings_md ON sightings (md);
CREATE INDEX sightings_article ON sightings (article);
CREATE TABLE articles (
    id TEXT PRIMARY KEY, digest TEXT NOT NULL, gen INTEGER NOT NULL, flags TEXT NOT NULL,
    conflict INTEGER NOT NULL, aliases TEXT NOT NULL, json TEXT NOT NULL,
    title TEXT, date TEXT, readers INTEGER, opening TEXT NOT NULL
);
CREATE INDEX articles_gen ON articles (gen);
CREATE INDEX articles_flagged ON articles (flags) WHERE flags != '';
CREATE INDEX articles_conflict ON articles (conflict) WHERE conflict = 1;
CREATE INDEX articles_aliases ON articles (aliases) WHERE aliases != '';
CREATE TABLE tombstones (id TEXT PRIMARY KEY, gen INTEGER NOT NULL);
CREATE TABLE hashes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha TEXT);
"""


def _md(date: str | None) -> str | None:
    return date[-5:] if date else None


def sighting_json(s: Sighting) -> str:
    return json.dumps([s.file, s.line, s.title, s.author, s.date, s.readers, s.excerpt, s.url, list(s.flags)], ensure_ascii=False)


def _sid(text: str) -> str:
    """Identity of a sighting row: identical sightings always share an article."""
    return hashlib.sha1(text.encode()).hexdigest()


def sighting_from_json(text: str) -> Sighting:
    f, line, title, author, date, readers, excerpt, url, flags = json.loads(text)
    return Sighting(f, line, title, author, date, readers, excerpt, url, tuple(flags))


def _conflicted(a: Article) -> bool:
    return any(f.endswith("-conflict") for f in a.flags)


def article_json(a: Article) -> str:
    return json.dumps({**article_dict(a), "aliases": list(a.aliases)}, ensure_ascii=False)


def opening_digest(a: Article) -> str:
    """Stands for what a card shows of an article's text: its excerpt and formulas, and its id
    (references to its equations link to anchors named after it); not its reader count, which
    a re-crawl changes while the card's opening stays the same."""
    data = json.dumps([a.id, a.excerpt, [[m.tex, m.display] for m in a.math]], ensure_ascii=False)
    return hashlib.blake2b(data.encode(), digest_size=16).hexdigest()  # a key among one archive's: 128 bits is ample


def article_from_json(text: str) -> Article:
    d: dict[str, Any] = json.loads(text)
    return article_from_dict(d, tuple(d["aliases"]))


@dataclass(frozen=True)
class Change:
    """What one build changed in the archive, for the stages after it."""

    generation: int
    changed: tuple[str, ...]
    removed: tuple[str, ...]


#: Where in the archive folder the state lives.
STATE_PATH = Path(".cache") / "state.sqlite"


def _known_hash(db: sqlite3.Connection, path: str, size: int, mtime_ns: int) -> str | None:
    """The content hash recorded for a file of this size and modification time, if any."""
    row = db.execute("SELECT sha FROM hashes WHERE path = ? AND size = ? AND mtime_ns = ?", (path, size, mtime_ns)).fetchone()
    return None if row is None else str(row[0])


def _knows_nothing(path: str, size: int, mtime_ns: int) -> None:
    return None


@contextmanager
def known_hashes(path: Path) -> Iterator[HashCache]:
    """The content hashes the last build recorded, read only: no lock taken, nothing written
    (``add`` checks seeds/ with them before a build). Knows nothing when there is no readable state."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        yield _knows_nothing
        return
    try:
        db.execute("SELECT 1 FROM hashes LIMIT 1")
        readable = True
    except sqlite3.Error:  # no state yet, or one of another version
        readable = False
    try:
        yield partial(_known_hash, db) if readable else _knows_nothing
    finally:
        db.close()


class State:
    """An open state database. Use as a context manager; it closes on exit."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if self._schema() != SCHEMA:
            self.reset()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def _schema(self) -> int | None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError:
            return None
        return int(row[0]) if row else None

    def reset(self) -> None:
        """Forget everything (a full build, or a cache from another version)."""
        names = [r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        drops = "".join(f"DROP TABLE IF EXISTS {name};" for name in names)
        seed = f"INSERT INTO meta VALUES ('schema', '{SCHEMA}'), ('generation', '0');"
        self.db.executescript(f"BEGIN;{drops}{_TABLES}{seed}COMMIT;")

    # -- reading ---------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def generation(self) -> int:
        return int(self.meta("generation") or 0)

    def dumps(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT sha, name FROM dumps"))

    def known_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        return _known_hash(self.db, path, size, mtime_ns)

    def affected(self, new: Sequence[Sighting]) -> tuple[list[Sighting], set[str]]:
        """Stored sightings the new ones may regroup, and the articles they form.

        The merge groups titled sightings by title key, and matches a title-less
        one against every sighting of each title key seen on its day/month (or
        clusters it with the other title-less ones there; undated ones with each
        other). So the closure is: sightings sharing a title key with the set;
        the title-less sightings on the days of those (a key that gained a
        sighting may now match them better); every sighting on the day of a
        title-less one in the set (all it is matched against); whole articles of
        those; until stable. Only days with title-less sightings are read whole,
        and most days have none.
        """
        keys = {title_key(s.title) for s in new if s.title}
        days = {_md(s.date) for s in new if not s.title}  # read whole (None: the undated title-less ones)
        near = {md for s in new if s.title and (md := _md(s.date)) is not None}  # only their title-less ones
        rows: dict[int, tuple[str, str]] = {}
        articles: set[str] = set()
        while True:
            found = (self._rows("title_key", keys) + self._rows("md", {d for d in days if d is not None})
                     + self._untitled(near, undated=None in days) + self._rows("article", articles))
            fresh = [r for r in found if r[0] not in rows]
            if not fresh:
                break
            for rowid, article, text, key, md in fresh:
                rows[rowid] = (article, text)
                articles.add(article)
                if key:
                    keys.add(key)
                    if md is not None:
                        near.add(md)
                else:
                    days.add(md)
        return [sighting_from_json(text) for _, text in rows.values()], articles

    def _untitled(self, days: Iterable[str], *, undated: bool) -> list[tuple[int, str, str, str | None, str | None]]:
        """The title-less sightings of these days/months (and the undated ones, if asked)."""
        select = "SELECT id, article, json, title_key, md FROM sightings"
        found: list[tuple[int, str, str, str | None, str | None]] = self._where_in(select, "md", days, "title_key IS NULL")
        if undated:
            found += self.db.execute(f"{select} WHERE md IS NULL AND title_key IS NULL").fetchall()
        return found

    def _where_in(self, select: str, column: str, values: Iterable[str], also: str = "1") -> list[Any]:
        """Rows of ``select … WHERE also AND column IN values``, in chunks: SQLite caps the number of parameters."""
        ordered = sorted(values)
        found: list[Any] = []
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            query = f"{select} WHERE {also} AND {column} IN ({','.join('?' * len(chunk))})"
            found += self.db.execute(query, chunk).fetchall()
        return found

    def _rows(self, column: str, values: Iterable[str]) -> list[tuple[int, str, str, str | None, str | None]]:
        return self._where_in("SELECT id, article, json, title_key, md FROM sightings", column, values)

    def all_sightings(self) -> list[Sighting]:
        return [sighting_from_json(t) for (t,) in self.db.execute("SELECT json FROM sightings")]

    def digests(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Record digests by id (of every article when ids is None)."""
        if ids is None:
            return dict(self.db.execute("SELECT id, digest FROM articles"))
        return dict(self._where_in("SELECT id, digest FROM articles", "id", ids))

    def stored(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(record digest, article JSON) by id, of those of ``ids`` that are stored."""
        return {i: (d, j) for i, d, j in self._where_in("SELECT id, digest, json FROM articles", "id", ids)}

    def articles(self, ids: Iterable[str] | None = None) -> list[Article]:
        """Articles by id (all of them when ids is None), sorted by id."""
        if ids is None:
            return [article_from_json(t) for (t,) in self.db.execute("SELECT json FROM articles ORDER BY id")]
        found = [article_from_json(t) for (t,) in self._where_in("SELECT json FROM articles", "id", ids)]
        return sorted(found, key=lambda a: a.id)

    def summaries(self) -> list[tuple[str, str, str | None, str | None, int | None, str, str, str]]:
        """(id, record digest, title, date, readers, flags, aliases, opening digest) of every article,
        by id: what the site needs to know which pages changed, without decoding any record."""
        query = "SELECT id, digest, title, date, readers, flags, aliases, opening FROM articles ORDER BY id"
        return list(self.db.execute(query))

    def conflicted(self) -> list[Article]:
        """Articles whose dumps disagree on some field."""
        return [article_from_json(t) for (t,) in self.db.execute("SELECT json FROM articles WHERE conflict = 1 ORDER BY id")]

    def aliases(self) -> dict[str, str]:
        rows = self.db.execute("SELECT id, aliases FROM articles WHERE aliases != ''")
        return dict(sorted((alias, aid) for aid, aliases in rows for alias in aliases.split(",")))

    def since(self, generation: int) -> Change:
        """Articles changed and removed after ``generation``."""
        changed = [r[0] for r in self.db.execute("SELECT id FROM articles WHERE gen > ? ORDER BY id", (generation,))]
        removed = [r[0] for r in self.db.execute("SELECT id FROM tombstones WHERE gen > ? ORDER BY id", (generation,))]
        return Change(self.generation, tuple(changed), tuple(removed))

    def problems(self) -> list[Problem]:
        rows = self.db.execute("SELECT d.name, p.line, p.severity, p.message FROM problems p JOIN dumps d ON d.sha = p.dump")
        return [Problem(name, line, severity, message) for name, line, severity, message in rows]

    def counts(self) -> tuple[int, int, int, int, dict[str, int]]:
        """dumps, unreadable dumps, sightings, articles, and articles per flag
        (the empty string counts the flagged articles)."""
        dumps, unread = self.db.execute("SELECT COUNT(*), COALESCE(SUM(kind IS NULL), 0) FROM dumps").fetchone()
        sightings = self.db.execute("SELECT COUNT(*) FROM sightings").fetchone()[0]
        articles = self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        tally: dict[str, int] = {}
        for (flags,) in self.db.execute("SELECT flags FROM articles WHERE flags != ''"):
            for flag in ["", *flags.split(",")]:
                tally[flag] = tally.get(flag, 0) + 1
        return dumps, unread, sightings, articles, tally

    # -- writing -----------------------------------------------------------------

    def record_hash(self, path: str, size: int, mtime_ns: int, sha: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?)", (path, size, mtime_ns, sha))

    def apply(self, update: Update) -> Change:
        """Store one build's outcome in a single transaction; returns what changed."""
        db = self.db
        gen = self.generation + 1
        old = self.digests(a.id for a, _ in update.digests)
        changed = [(a, d) for a, d in update.digests if old.get(a.id) != d]
        same_meta = all(self.meta(k) == v for k, v in update.meta.items())
        if not (update.dumps or update.sightings or changed or update.removed) and same_meta:
            return Change(gen - 1, (), ())  # a no-op build leaves the cache file untouched
        db.execute("BEGIN")
        try:
            for sha, name, kind, count, problems in update.dumps:
                db.execute("DELETE FROM problems WHERE dump = ?", (sha,))
                db.execute("DELETE FROM sightings WHERE dump = ?", (sha,))
                db.execute("INSERT OR REPLACE INTO dumps VALUES (?, ?, ?, ?)", (sha, name, kind, count))
                found = [(sha, p.line, p.severity, p.message) for p in problems]
                db.executemany("INSERT INTO problems VALUES (?, ?, ?, ?)", found)
            rows = [(sha, title_key(s.title) if s.title else None, _md(s.date), sighting_json(s)) for sha, s in update.sightings]
            db.executemany(
                "INSERT INTO sightings (dump, title_key, md, article, sid, json) VALUES (?, ?, ?, '', ?, ?)",
                [(sha, key, md, _sid(text), text) for sha, key, md, text in rows],
            )
            db.executemany(
                "UPDATE sightings SET article = ? WHERE sid = ?",
                [(article.id, _sid(sighting_json(s))) for article, members in update.groups for s in members],
            )
            db.executemany(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(a.id, d, gen, ",".join(a.flags), _conflicted(a), ",".join(a.aliases), article_json(a),
                  a.title, a.date, a.readers, opening_digest(a)) for a, d in changed],
            )
            db.executemany("DELETE FROM articles WHERE id = ?", [(i,) for i in update.removed])
            db.executemany("INSERT OR REPLACE INTO tombstones VALUES (?, ?)", [(i, gen) for i in update.removed])
            db.executemany("DELETE FROM tombstones WHERE id = ?", [(a.id,) for a, _ in changed])
            if changed or update.removed or update.dumps:
                db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(gen),))
            for key, value in update.meta.items():
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return self.since(gen - 1) if (changed or update.removed or update.dumps) else Change(gen - 1, (), ())


@dataclass(frozen=True)
class Update:
    """One build's outcome, as :meth:`State.apply` stores it.

    dumps:     (sha, name, kind, sighting count, problems) of each dump read.
    sightings: (dump sha, sighting) of each new sighting.
    groups:    each regrouped article with the sightings it now joins.
    digests:   (article, digest of its record file) for each regrouped article.
    removed:   ids of articles that no longer exist (merged into another).
    """

    dumps: Sequence[tuple[str, str, str | None, int, Sequence[Problem]]]
    sightings: Sequence[tuple[str, Sighting]]
    groups: Sequence[tuple[Article, Sequence[Sighting]]]
    digests: Sequence[tuple[Article, str]]
    removed: Sequence[str]
    meta: dict[str, str]
