"""A saved RSS 2.0 feed of the blog (``/feed``, Typecho).

Each ``<item>`` has ``title``, ``link`` (the article URL), ``pubDate``
(RFC 2822, read in the feed's own time zone: that is the blog's date),
``dc:creator``, ``category``, a plain-text ``description`` and the article
HTML in ``content:encoded``. The HTML is preferred and turned into paragraphs
by the same code as article pages; the description is the fallback.

Parsed with lxml in recovery mode, entities never resolved and nothing
fetched. A feed cut off mid-way yields its complete items and a problem
naming the item it was cut in.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from lxml import etree

from ..records import Problem, Sighting
from .common import Para, Reading, drop_repeats, finish, lines_to_paras
from .html_page import canonical_url
from .html_text import html_paragraphs

#: The feed's root comes first, after an XML declaration, stylesheet or comments.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_PARSER_OPTIONS = {"recover": True, "resolve_entities": False, "no_network": True, "huge_tree": True}


def read(text: str, file: str) -> Reading:
    root = _parse(text)
    if root is None:
        return Reading((), (Problem(file, 1, "error", "not readable as XML: no <rss> element"),))
    items = [e for e in root.iter() if _name(e) == "item"]
    complete = text.count("</item>")
    problems: list[Problem] = []
    sightings: list[Sighting] = []
    for k, item in enumerate(items):
        if k >= complete:
            title = _child_text(item, "title")
            message = f"feed cut off inside item {title or '(untitled)'!r}: item skipped"
            problems.append(Problem(file, item.sourceline or 1, "warning", message))
            continue
        sighting, found = _item(item, file)
        sightings.append(sighting)
        problems.extend(found)
    if "</rss>" not in text:
        problems.append(Problem(file, max(1, len(text.splitlines())), "warning", "feed ends before </rss>: truncated"))
    if not items:
        problems.append(Problem(file, 1, "warning", "feed has no <item>"))
    return Reading(tuple(sightings), tuple(problems))


def _parse(text: str) -> etree._Element | None:
    """The feed's root; the declaration is blanked out since the text is decoded already."""
    body = _XML_DECLARATION.sub("", text, count=1).encode("utf-8")
    try:
        return etree.fromstring(body, parser=etree.XMLParser(encoding="utf-8", **_PARSER_OPTIONS))
    except etree.XMLSyntaxError:
        return None


def _name(element: etree._Element) -> str:
    """The local name, namespace or (undeclared, recovered) prefix dropped."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _child(item: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in item if _name(c) == name), None)


def _child_text(item: etree._Element, name: str) -> str | None:
    child = _child(item, name)
    text = "".join(child.itertext()).strip() if child is not None else ""
    return text or None


def _item(item: etree._Element, file: str) -> tuple[Sighting, list[Problem]]:
    line = item.sourceline or 1
    problems: list[Problem] = []
    title = _child_text(item, "title")
    title = " ".join(title.split()) if title else None
    link = _child_text(item, "link") or _child_text(item, "guid")
    url = canonical_url(link)
    if url is None:
        problems.append(Problem(file, line, "info", f"item link {link!r} is not an article of the blog: url unknown"))
    date, flags = _date(_child_text(item, "pubDate"), file, line, problems)
    sighting, found = finish(
        file, line, drop_repeats(_body(item)), title=title, author=_child_text(item, "creator"),
        date=date, readers=None, url=url, flags=flags,
    )
    return sighting, problems + found


def _date(text: str | None, file: str, line: int, problems: list[Problem]) -> tuple[str | None, tuple[str, ...]]:
    if text is None:
        problems.append(Problem(file, line, "warning", "item without pubDate: date unknown"))
        return None, ()
    try:
        return parsedate_to_datetime(text).date().isoformat(), ()
    except (TypeError, ValueError, IndexError):
        problems.append(Problem(file, line, "warning", f"unreadable pubDate {text!r}: date unknown"))
        return None, ("date-invalid",)


def _body(item: etree._Element) -> list[Para]:
    """content:encoded as paragraphs, else the plain description one line per paragraph."""
    content = _child(item, "encoded")
    html = "".join(content.itertext()) if content is not None else ""
    if html.strip():
        return html_paragraphs(html, content.sourceline or 1) if content is not None else []
    description = _child(item, "description")
    if description is None:
        return []
    text = "".join(description.itertext())
    first = description.sourceline or 1
    if "<" in text and re.search(r"<(?:p|br|div)[\s/>]", text):
        return html_paragraphs(text, first)
    return lines_to_paras([(first + i, line) for i, line in enumerate(text.split("\n"))])
