"""A listing page of the live blog: home, ``/page/N/``, ``/category/…``, ``/search/…``.

Each entry is a ``.Post`` holding the title link ``.title-wrap h2 a``, the
by-line (or, on the home page, a ``D Mon`` date box with no year) and the
excerpt paragraphs in ``.PostContent``, ended by
``<p class="more"><a …>点击阅读全文...</a></p>``, which is dropped.

When the theme's ``.Post`` wrappers are gone, the page is cut into entries at
its ``<h2>`` titles instead, and the problem list says so. A page cut off in
the middle keeps the entries it has; the one it was cut in is ``truncated``.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from ..records import Problem, Sighting
from .common import READ_MORE, Para, Reading, drop_repeats, finish
from .html_page import (
    ARTICLE_HREF,
    Byline,
    byline_problems,
    find_byline,
    is_cut_short,
    link_of,
    truncation_problem,
    where,
)
from .html_text import paragraphs, parse

ENTRY = ".Post"
HEAD = ".title-wrap h2"


def read(text: str, file: str) -> Reading:
    soup = parse(text)
    problems: list[Problem] = []
    entries = _entries(soup, file, problems)
    sightings: list[Sighting] = []
    cut = is_cut_short(text)
    for k, entry in enumerate(entries):
        last = k == len(entries) - 1
        sighting, found = _entry(entry, file, cut and last)
        if sighting is not None:
            sightings.append(sighting)
        problems.extend(found)
    if cut:
        inside = sightings and "truncated" in sightings[-1].flags
        what = f"in entry {sightings[-1].title or '(untitled)'!r}" if inside else "after the last entry"
        problems.append(truncation_problem(file, text, what))
    return Reading(tuple(sightings), tuple(problems))


def _entries(soup: BeautifulSoup, file: str, problems: list[Problem]) -> list[Tag]:
    """One tag per entry: the theme's ``.Post`` wrappers, else a wrapper per ``<h2>`` title."""
    posts = [p for p in soup.select(ENTRY) if p.find_parent(class_="Post") is None]
    if posts:
        return posts
    heads = soup.select(HEAD) or [h for h in soup.find_all("h2") if _links_article(h)]
    if heads:
        problems.append(Problem(file, where(heads[0]), "info", f"no '{ENTRY}' entries; page split at its <h2> titles"))
    return _split_at(soup, heads)


def _links_article(tag: Tag) -> bool:
    return any(ARTICLE_HREF.match(str(a.get("href") or "")) for a in tag.find_all("a"))


def _is_page_frame(tag: Tag) -> bool:
    """The page's own frame: an entry never grows past it (a lone title would swallow the page)."""
    return tag.name in ("body", "html", "main", "[document]") or str(tag.get("id") or "") in ("main", "content", "wrapper")


def _split_at(soup: BeautifulSoup, heads: list[Tag]) -> list[Tag]:
    """Wrap each title and the siblings after it (up to the next title) in a ``div``."""
    roots = []
    for k, head in enumerate(heads):
        others = {id(a) for j, h in enumerate(heads) if j != k for a in (h, *h.parents)}
        root = head
        while root.parent is not None and id(root.parent) not in others and not _is_page_frame(root.parent):
            root = root.parent
        roots.append(root)
    groups: list[list[Tag]] = []
    for k, root in enumerate(roots):
        nodes = [root]
        for sibling in root.next_siblings:
            if any(sibling is r for r in roots[k + 1 :]):
                break
            nodes.append(sibling)  # type: ignore[arg-type]  # strings too; the walker reads both
        groups.append(nodes)
    wrappers = []
    for nodes in groups:
        wrapper = soup.new_tag("div")
        wrapper.sourceline = nodes[0].sourceline if isinstance(nodes[0], Tag) else None
        for node in nodes:
            wrapper.append(node.extract())
        wrappers.append(wrapper)
    return wrappers


def _entry(entry: Tag, file: str, maybe_cut: bool) -> tuple[Sighting | None, list[Problem]]:
    problems: list[Problem] = []
    head = entry.select_one(HEAD) or entry.select_one("h2, h1, h3")
    line = where(head or entry)
    title = " ".join(head.get_text().split()) if head is not None else ""
    byline, byline_tag = find_byline(entry)
    if head is None or not title:
        problems.append(Problem(file, line, "warning", f"entry without a title ('{HEAD}'): title unknown"))
    problems.extend(byline_problems(file, byline, byline_tag, line))
    url = link_of(head)
    paras, complete = _excerpt(entry, head, byline_tag)
    if head is None and byline is None and not paras:
        return None, problems
    flags = list(byline.flags) if byline else []
    if maybe_cut and not complete:
        flags.append("truncated")
    return _finish(file, line, paras, title or None, byline, url, flags, problems)


def _finish(
    file: str, line: int, paras: list[Para], title: str | None, byline: Byline | None,
    url: str | None, flags: list[str], problems: list[Problem],
) -> tuple[Sighting, list[Problem]]:
    sighting, found = finish(
        file, line, drop_repeats(paras), title=title, author=byline.author if byline else None,
        date=byline.date if byline else None, readers=byline.readers if byline else None,
        url=url, flags=tuple(flags),
    )
    return sighting, problems + found


def _excerpt(entry: Tag, head: Tag | None, byline_tag: Tag | None) -> tuple[list[Para], bool]:
    """The excerpt paragraphs up to ``点击阅读全文...``, and whether that link was seen."""
    body = entry.select_one(".PostContent")
    if body is None:  # no body wrapper: read the entry itself, minus what was read already
        for known in (entry.select_one(".PostHead") or entry.select_one(".title-wrap") or head, byline_tag):
            if known is not None and known is not entry:
                known.decompose()
        body = entry
    paras, _ = paragraphs(body)
    cut = next((i for i, p in enumerate(paras) if p.text == READ_MORE), None)
    return (paras, False) if cut is None else (paras[:cut], True)
