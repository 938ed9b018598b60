"""Plain-text dump of a listing page (home page copied as text, seeds 000–002).

Each article is a title line, then ``By AUTHOR | YYYY-MM-DD | N位读者 | 引用``
with the excerpt glued straight after ``引用`` and running on over the next
lines. An article with no excerpt has the *next* article's title glued after
its ``引用`` instead, so a by-line followed directly by another by-line means
"empty excerpt, and here is the next title". The sidebar (``最近评论``) ends
the page.
"""

from __future__ import annotations

import datetime as dt
import re

from ..records import Problem, Sighting
from .common import SIDEBAR_START, Reading, finish, lines_to_paras

BYLINE = re.compile(
    r"^\s*By\s+(?P<author>[^|]+?)\s*\|\s*(?P<date>\d{4}-\d{2}-\d{2})\s*\|"
    r"\s*(?P<readers>\d+)\s*位读者\s*\|\s*引用(?P<rest>.*)$"
)
#: A line that wants to be a by-line but is not well formed.
NEAR_BYLINE = re.compile(r"^\s*By\s.*\|.*位读者")


def sniff(text: str) -> bool:
    return any(BYLINE.match(line) for line in text.splitlines())


def _valid_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def read(text: str, file: str) -> Reading:
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines) if line.strip() == SIDEBAR_START), len(lines))
    lines = lines[:end]
    bylines = [i for i, line in enumerate(lines) if BYLINE.match(line)]
    problems = [
        Problem(file, i + 1, "warning", f"malformed by-line, not read as an article: {line.strip()[:60]!r}")
        for i, line in enumerate(lines)
        if NEAR_BYLINE.match(line) and not BYLINE.match(line)
    ]
    sightings: list[Sighting] = []
    for k in range(len(bylines)):
        sighting, found = _article(lines, bylines, k, file)
        sightings.append(sighting)
        problems.extend(found)
    if bylines and bylines[0] > 1:
        skipped = sum(1 for line in lines[: bylines[0] - 1] if line.strip())
        if skipped:
            problems.append(Problem(file, 1, "info", f"skipped {skipped} line(s) before the first article"))
    return Reading(tuple(sightings), tuple(problems))


def _article(lines: list[str], bylines: list[int], k: int, file: str) -> tuple[Sighting, list[Problem]]:
    at = bylines[k]
    m = BYLINE.match(lines[at])
    assert m is not None  # bylines only holds matching lines
    glued_title = k > 0 and bylines[k - 1] == at - 1
    if glued_title:
        prev = BYLINE.match(lines[at - 1])
        assert prev is not None
        title = prev.group("rest").strip() or None
        start = at  # 1-based number of the previous by-line
    elif at > 0 and lines[at - 1].strip():
        title, start = lines[at - 1].strip(), at
    else:
        title, start = None, at + 1
    next_at = bylines[k + 1] if k + 1 < len(bylines) else len(lines) + 1
    if next_at == at + 1:
        body: list[tuple[int, str]] = []  # our 'rest' is the next title, not an excerpt
    else:
        body = [(at + 1, m.group("rest"))] + [(i + 1, lines[i]) for i in range(at + 1, next_at - 1)]
    date = m.group("date")
    problems: list[Problem] = []
    flags: tuple[str, ...] = ()
    if not _valid_date(date):
        problems.append(Problem(file, at + 1, "warning", f"impossible date {date!r}: kept unknown"))
        date, flags = None, ("date-invalid",)
    sighting, found = finish(
        file, start, lines_to_paras(body), title=title, author=m.group("author").strip(),
        date=date, readers=int(m.group("readers")), flags=flags,
    )
    return sighting, problems + found
