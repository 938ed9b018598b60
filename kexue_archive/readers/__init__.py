"""One pure function per page kind, chosen by sniffing the content.

The table is the whole dispatch mechanism: to support a new page kind, write
``sniff(text) -> bool`` and ``read(text, file) -> Reading`` and add a row. The
first row whose sniff says yes reads the dump; the file name is never looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..records import Problem
from . import html_article, html_content, html_listing, rss, text_home, text_listing
from .common import Reading


class Kind(NamedTuple):
    name: str
    sniff: Callable[[str], bool]
    read: Callable[[str, str], Reading]


#: Most specific first: markup before plain text, listing before home.
KINDS: tuple[Kind, ...] = (
    Kind("rss", rss.sniff, rss.read),
    Kind("html-content", html_content.sniff, html_content.read),
    Kind("html-listing", html_listing.sniff, html_listing.read),
    Kind("html-article", html_article.sniff, html_article.read),
    Kind("text-listing", text_listing.sniff, text_listing.read),
    Kind("text-home", text_home.sniff, text_home.read),
)


def kind_of(text: str) -> Kind | None:
    return next((kind for kind in KINDS if kind.sniff(text)), None)


def read_text(text: str, file: str) -> tuple[str | None, Reading]:
    """Read a decoded dump with the reader its content calls for.

    Never raises on content: an unknown layout is a problem, not an exception.
    """
    kind = kind_of(text)
    if kind is None:
        problem = Problem(file, 1, "error", "unknown layout: no by-line, date box, or blog markup found; skipped")
        return None, Reading((), (problem,))
    reading = kind.read(text, file)
    if not reading.sightings:
        problem = Problem(file, 1, "warning", f"read as {kind.name} but no article was found")
        reading = Reading((), (*reading.problems, problem))
    return kind.name, reading


__all__ = ["KINDS", "Kind", "Reading", "kind_of", "read_text"]
