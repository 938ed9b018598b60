"""What every HTML page of the blog has in common: by-line, URLs, truncation (sniffing is ``sniffing``).

The live site is Typecho with the blog's own theme. Its selectors are the
first guess, never the only one: themes drift, so each lookup falls back to a
looser one and says so, and what cannot be found at all is reported, not
guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from bs4 import BeautifulSoup, Tag

from ..records import Problem
from .html_text import flatten, line_of
from .text_home import DATE_BOX, MONTHS

#: The canonical host: kexue.fm serves the same ids.
CANONICAL = "https://spaces.ac.cn/archives/{}"
ARTICLE_HREF = re.compile(r"^(?:https?://(?:www\.)?(?:kexue\.fm|spaces\.ac\.cn))?/archives/(\d+)/?(?:[?#].*)?$")
BYLINE = re.compile(
    r"By\s+(?P<author>[^|]+?)\s*\|\s*(?P<date>\d{4}-\d{1,2}-\d{1,2})"
    r"(?:\s*\|\s*(?P<readers>\d[\d,]*)\s*位读者)?"
)
#: The site name the ``<title>`` element appends (or is, on listing pages).
SITE_NAMES = ("科学空间|Scientific Spaces", "科学空间")
_TITLE_SUFFIX = re.compile(r"\s*[-–—|]\s*科学空间\s*\|?\s*(?:Scientific Spaces)?\s*$")
_HTML_OPEN = re.compile(r"<(?:html|body)[\s>]", re.IGNORECASE)
_HTML_CLOSE = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)


def canonical_url(href: str | None) -> str | None:
    """``https://spaces.ac.cn/archives/N`` for any link to an article of the blog."""
    m = ARTICLE_HREF.match((href or "").strip())
    return CANONICAL.format(m.group(1)) if m else None


def article_id(url: str | None) -> str | None:
    m = ARTICLE_HREF.match(url or "")
    return m.group(1) if m else None


def last_line(text: str) -> int:
    return max(1, len(text.splitlines()))


def is_cut_short(text: str) -> bool:
    """The page opened ``<html>``/``<body>`` and never closed it: the crawl was cut."""
    return bool(_HTML_OPEN.search(text)) and not _HTML_CLOSE.search(text)


def truncation_problem(file: str, text: str, what: str) -> Problem:
    return Problem(file, last_line(text), "warning", f"page ends before </html>: truncated {what}")


@dataclass(frozen=True)
class Byline:
    """``By AUTHOR | YYYY-MM-DD | N位读者``, or a ``D Mon`` date box (no year)."""

    author: str | None
    date: str | None
    readers: int | None
    flags: tuple[str, ...]
    problem: str | None
    #: Where it was found: the theme's ``.submitted``, loose text, or a date box.
    found_in: str = ".submitted"


def parse_byline(text: str) -> Byline | None:
    m = BYLINE.search(text)
    if not m:
        return None
    readers = int(m.group("readers").replace(",", "")) if m.group("readers") else None
    date, flags, problem = _checked_date(m.group("date"))
    return Byline(m.group("author").strip(), date, readers, flags, problem)


def _checked_date(text: str) -> tuple[str | None, tuple[str, ...], str | None]:
    try:
        year, month, day = (int(x) for x in text.split("-"))
        return dt.date(year, month, day).isoformat(), (), None
    except ValueError:
        return None, ("date-invalid",), f"impossible date {text!r}: kept unknown"


def parse_date_box(text: str) -> Byline | None:
    """The home page's ``09 Dec`` box: day and month only, never a guessed year."""
    m = DATE_BOX.match(" ".join(text.split()))
    if not m:
        return None
    day, month = int(m.group("day")), MONTHS[m.group("month")]
    try:
        dt.date(2000, month, day)  # a leap year: 29 Feb is possible when the year is unknown
    except ValueError:
        return Byline(None, None, None, ("date-invalid",), f"impossible date box {text.strip()!r}: kept unknown")
    return Byline(None, f"--{month:02d}-{day:02d}", None, ("year-unknown",), None)


def find_byline(scope: Tag) -> tuple[Byline | None, Tag | None]:
    """The by-line in ``.submitted``, else any element that reads like one, else a date box."""
    for tag in scope.select(".submitted"):
        found = parse_byline(flatten(tag).replace("\n", " "))
        if found:
            return found, tag
    for string in scope.find_all(string=re.compile("位读者")):
        parent = string.parent
        if parent is not None:
            text = flatten(parent.parent or parent).replace("\n", " ")
            found = parse_byline(text)
            if found:
                return replace(found, found_in="text"), parent
    for tag in scope.select(".dateBox, .date-box, .datebox, .post-date"):
        found = parse_date_box(flatten(tag).replace("\n", " "))
        if found:
            return replace(found, found_in="date box"), tag
    return None, None


def page_title(soup: BeautifulSoup) -> str | None:
    """The ``<title>`` minus the site name; None when it is only the site name."""
    if soup.title is None:
        return None
    text = " ".join(soup.title.get_text().split())
    text = _TITLE_SUFFIX.sub("", text).strip()
    return None if not text or text in SITE_NAMES else text


def link_of(tag: Tag | None) -> str | None:
    """The article URL a title link points at."""
    if tag is None:
        return None
    anchor = tag if tag.name == "a" else tag.find("a", href=True)
    href = anchor.get("href") if isinstance(anchor, Tag) else None
    return canonical_url(href if isinstance(href, str) else None)


def where(tag: Tag | None, default: int = 1) -> int:
    return line_of(tag, default) if tag is not None else default


def byline_problems(file: str, byline: Byline | None, tag: Tag | None, line: int) -> list[Problem]:
    """What a reader should say about the by-line it found (or did not)."""
    if byline is None:
        message = "no by-line (By AUTHOR | YYYY-MM-DD | N位读者) or date box found: author, date and readers unknown"
        return [Problem(file, line, "warning", message)]
    found = []
    if byline.found_in == "text":
        found.append(Problem(file, where(tag, line), "info", "by-line not in '.submitted'; read from the text that holds it"))
    if byline.problem:
        found.append(Problem(file, where(tag, line), "warning", byline.problem))
    return found
