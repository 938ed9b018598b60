"""The archive page ``content.html``: every article, by year and month.

Year headings read ``2013年 (共1篇)``, month headings ``01月``, and each
article is a line ``20日: <a href=…/archives/ID>title</a>``. Each link is one
sighting with its full date, title and URL and no excerpt. The text is read
in document order, so the markup around these lines may change freely. The
``共N篇`` count is checked against the links found: a mismatch means lost
entries (or a cut page) and is reported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bs4 import Tag
from bs4.element import Comment, NavigableString

from ..records import Problem, Sighting
from .common import Reading, finish
from .html_page import canonical_url, is_cut_short, truncation_problem
from .html_text import line_of, parse
from .sniffing import YEAR

MONTH = re.compile(r"^(\d{1,2})\s*月$")
DAY = re.compile(r"(\d{1,2})\s*日\s*[:：]?\s*$")


@dataclass
class _Year:
    year: int
    claimed: int
    line: int
    found: int = 0


@dataclass
class _State:
    """Where the single pass is: the current year and month, and what was found."""

    file: str
    year: _Year | None = None
    month: int | None = None
    years: list[_Year] = field(default_factory=list)
    sightings: list[Sighting] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read(text: str, file: str) -> Reading:
    soup = parse(text)
    state = _State(file)
    links = []
    for node in (soup.select_one("#PostContent") or soup.body or soup).descendants:
        if isinstance(node, NavigableString) and not isinstance(node, Comment):
            words = str(node).strip()
            if words and (YEAR.search(words) or MONTH.match(words)) and node.find_parent("a") is None:
                _heading(words, line_of(node), state)
        elif isinstance(node, Tag) and node.name == "a":
            url = canonical_url(str(node.get("href") or ""))
            day = _day_before(node)
            if url is not None and day is not None:  # other links (comments, sidebar) are not entries
                links.append(node)
                _link(node, url, day, state)
    cut = is_cut_short(text)
    if cut and links and text.rfind("</a>") < text.rfind("<a "):
        dropped = state.sightings.pop()
        if state.year is not None:
            state.year.found -= 1
        message = f"page cut inside the last link {dropped.title!r}: entry skipped"
        state.problems.append(Problem(file, dropped.line, "warning", message))
    for year in state.years:
        if year.found != year.claimed:
            state.problems.append(Problem(
                file, year.line, "warning", f"{year.year}年 claims {year.claimed} articles, {year.found} found"
            ))
    if cut:
        state.problems.append(truncation_problem(file, text, "archive list: later years may be missing"))
    return Reading(tuple(state.sightings), tuple(state.problems))


def _heading(text: str, line: int, state: _State) -> None:
    m = YEAR.search(text)
    if m:
        state.year = _Year(int(m.group(1)), int(m.group(2)), line)
        state.years.append(state.year)
        state.month = None
        return
    m = MONTH.match(text)
    if m:
        month = int(m.group(1))
        state.month = month if 1 <= month <= 12 else None
        if state.month is None:
            message = f"impossible month {text!r}: dates unknown until the next month"
            state.problems.append(Problem(state.file, line, "warning", message))


def _day_before(a: Tag) -> int | None:
    """The ``20日:`` in front of a link: what makes it an entry of the archive."""
    before = a.previous_sibling
    m = DAY.search(str(before)) if isinstance(before, NavigableString) else None
    return int(m.group(1)) if m else None


def _link(a: Tag, url: str, day: int, state: _State) -> None:
    line = line_of(a)
    title = " ".join(a.get_text().split()) or None
    date, flags, problem = _date(state, day)
    if problem:
        state.problems.append(Problem(state.file, line, "warning", f"{title!r}: {problem}"))
    if state.year is not None:
        state.year.found += 1
    sighting, found = finish(state.file, line, [], title=title, date=date, url=url, flags=flags)
    state.sightings.append(sighting)
    state.problems.extend(found)


def _date(state: _State, day: int) -> tuple[str | None, tuple[str, ...], str | None]:
    """The full date when year, month and day are known; never a guessed part."""
    if state.month is None:
        return None, (), "no month heading before the link: date unknown"
    if state.year is None:
        try:
            dt.date(2000, state.month, day)
        except ValueError:
            return None, ("date-invalid",), f"impossible date --{state.month:02d}-{day:02d}: kept unknown"
        return f"--{state.month:02d}-{day:02d}", ("year-unknown",), "no year heading before the link: year unknown"
    try:
        return dt.date(state.year.year, state.month, day).isoformat(), (), None
    except ValueError:
        return None, ("date-invalid",), f"impossible date {state.year.year}-{state.month:02d}-{day:02d}: kept unknown"
