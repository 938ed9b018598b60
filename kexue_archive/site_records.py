"""The records as the renderer reads them: summaries of all, whole records on demand, made safe for a page.

A rebuild decodes only the records whose pages it draws (:class:`Records`);
every record and summary a page shows passes through :func:`sanitise` or
:func:`safe_summaries` first, so no character HTML forbids and no id that is
not a safe file name reaches a template or a path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .records import Article, Problem
from .series import Part, parse
from .site_layout import ROW, Summary
from .site_pages import SAFE_ID, summarise
from .site_text import clean
from .state import article_json
from .tex import scan


def sanitise(articles: Iterable[Article]) -> tuple[list[Article], list[Problem]]:
    """Records fit for a page: characters HTML forbids replaced, unsafe ids left out."""
    kept, problems = [], []
    for a in articles:
        if not SAFE_ID.fullmatch(a.id):
            where = a.sources[0] if a.sources else None
            problems.append(Problem(where.file if where else "(archive)", where.line if where else 0, "error",
                                    f"record id {a.id!r} is not a safe file name; no page made for it"))
            continue
        kept.append(replace(
            a, title=a.title and clean(a.title), author=a.author and clean(a.author), url=a.url and clean(a.url),
            excerpt=clean(a.excerpt), math=a.math if clean(a.excerpt) == a.excerpt else scan(clean(a.excerpt)).math,
            aliases=tuple(x for x in a.aliases if SAFE_ID.fullmatch(x)),
        ))
    return kept, problems


def record_digest(a: Article) -> str:
    """Stands for a record given as an object (the build passes the archive's own digests)."""
    return hashlib.sha256(article_json(a).encode() + b"\0").hexdigest()


@dataclass(frozen=True)
class Records:
    """What the renderer reads: a summary of every record, and a way to load whole
    records by id (only those whose pages are drawn are ever loaded)."""

    summaries: Sequence[Summary]
    load: Callable[[Iterable[str]], Sequence[Article]]

    @classmethod
    def of(cls, articles: Iterable[Article]) -> Records:
        by_id = {a.id: a for a in articles}
        summaries = [summarise(a, record_digest(a)) for a in by_id.values()]
        return cls(summaries, lambda ids: [by_id[i] for i in ids])

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str | None, str | None, int | None, str, str, str]],
                  load: Callable[[Iterable[str]], Sequence[Article]]) -> Records:
        """From :meth:`State.summaries` rows (flags and aliases comma-joined)."""
        summaries = [Summary(aid, digest, title, date, readers, tuple(flags.split(",")) if flags else (),
                             tuple(aliases.split(",")) if aliases else (), opening)
                     for aid, digest, title, date, readers, flags, aliases, opening in rows]
        return cls(summaries, load)


def safe_summaries(summaries: Iterable[Summary]) -> tuple[list[Summary], list[str]]:
    """Summaries fit for a page (as :func:`sanitise` makes records), and the ids no page can have."""
    kept, unsafe = [], []
    for s in summaries:
        if not SAFE_ID.fullmatch(s.id):
            unsafe.append(s.id)
            continue
        title = s.title and clean(s.title)
        if title != s.title or (s.aliases and not all(SAFE_ID.fullmatch(x) for x in s.aliases)):  # rare: copy only then
            s = replace(s, title=title, aliases=tuple(x for x in s.aliases if SAFE_ID.fullmatch(x)))
        kept.append(s)
    return kept, unsafe


def parts(summaries: Sequence[Summary], old: Mapping[str, list[Any]]) -> dict[str, Part | None]:
    """Each title's series part, parsed again only when the title changed since the last render."""
    out: dict[str, Part | None] = {}
    for s in summaries:
        row = old.get(s.id)
        if row is not None and len(row) == ROW + 1 and row[1] == s.title:
            part = row_part(row)
            out[s.id] = Part(*part) if part else None
        else:
            out[s.id] = parse(s.title)
    return out


def row_part(row: Sequence[Any]) -> list[Any] | None:
    """The series part (name, key, number) a site state row holds after the summary, if any."""
    return row[ROW] if len(row) > ROW else None


def part_row(part: Part | None) -> list[Any] | None:
    return [part.name, part.key, part.number] if part else None
