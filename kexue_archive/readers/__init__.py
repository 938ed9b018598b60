"""One pure function per page kind, chosen by sniffing the content.

The table is the whole dispatch mechanism: to support a new page kind, write
``sniff(text) -> bool`` and ``read(text, file) -> Reading`` and add a row. The
first row whose sniff says yes reads the dump; the file name is never looked at.
The markup kinds' sniffs are regexes in ``sniffing``, and their readers are
imported when a dump of their kind first comes (they bring BeautifulSoup and
lxml): a build of plain-text dumps never loads either.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import NamedTuple

from ..records import Problem
from . import sniffing, text_home, text_listing
from .common import Reading


class Kind(NamedTuple):
    name: str
    sniff: Callable[[str], bool]
    read: Callable[[str, str], Reading]


def _on_first_use(module: str) -> Callable[[str, str], Reading]:
    """``readers.<module>.read``, imported when a dump of its kind first comes: the HTML and
    RSS readers bring BeautifulSoup and lxml (~0.1 s), which plain-text dumps never need."""

    def read(text: str, file: str) -> Reading:
        reader: Callable[[str, str], Reading] = import_module(f"{__name__}.{module}").read
        return reader(text, file)

    return read


#: Most specific first: markup before plain text, listing before home.
KINDS: tuple[Kind, ...] = (
    Kind("rss", sniffing.rss, _on_first_use("rss")),
    Kind("html-content", sniffing.html_content, _on_first_use("html_content")),
    Kind("html-listing", sniffing.html_listing, _on_first_use("html_listing")),
    Kind("html-article", sniffing.html_article, _on_first_use("html_article")),
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
