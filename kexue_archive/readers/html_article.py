"""An article page of the live blog (``/archives/NNNN``, Typecho).

The title is ``.Post .title-wrap h1 a`` (its link is the article URL), the
by-line ``By 苏剑林 | YYYY-MM-DD | N位读者 | 引用`` is ``.Post .submitted``,
and the body is ``#PostContent``, whose tail (reprint notice,
``#content_tips``, ``#pay``, ``#how_to_cite``) is not article text. The whole
body is the excerpt, so the archive can hold full articles.

Selectors drift: each field falls back to a looser lookup and says so in a
problem; a field not found at all stays unknown and is reported. A page cut
off before its body ends yields what it has, flagged ``truncated``.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from ..records import Problem
from .common import Reading, drop_repeats, finish
from .html_page import (
    byline_problems,
    canonical_url,
    find_byline,
    is_cut_short,
    link_of,
    page_title,
    truncation_problem,
    where,
)
from .html_text import classes, flatten, paragraphs, parse

TITLE = ".Post .title-wrap h1"
BODY = "#PostContent"
#: Looser guesses, tried in order once the theme's own selector fails.
TITLE_FALLBACKS = (".title-wrap h1", ".Post h1", "article h1", "h1")
BODY_FALLBACKS = (".PostContent", ".post-content", ".entry-content", ".post-body")
_REPRINT_URL = re.compile(r"转载到请包括本文地址[:：]\s*(https?://[^\s/]+/archives/\d+)")


def read(text: str, file: str) -> Reading:
    soup = parse(text)
    problems: list[Problem] = []
    post = soup.select_one(".Post") or soup.body or soup
    title, title_tag = _title(soup, file, problems)
    byline, byline_tag = find_byline(post)
    if byline is None and post is not soup:
        byline, byline_tag = find_byline(soup)
    body = _body(soup, file, problems)
    paras, reached_tail = paragraphs(body) if body is not None else ([], False)
    url = link_of(title_tag) or _url_elsewhere(soup, text)
    start = where(title_tag or byline_tag or body, 1)
    if title is None and byline is None and not paras:  # one clear problem, not one per missing part
        message = "no article found: no title, by-line or body (#PostContent) in this page"
        return Reading((), (Problem(file, 1, "error", message),))
    problems.extend(byline_problems(file, byline, byline_tag, start))
    if url is None:
        problems.append(Problem(file, start, "info", "no link to /archives/N found: url unknown"))
    flags = list(byline.flags) if byline else []
    if is_cut_short(text):
        body_cut = body is not None and not reached_tail
        problems.append(truncation_problem(file, text, "inside the article body: excerpt incomplete" if body_cut
                                           else "after the article body (comments, sidebar lost)"))
        if body_cut or body is None:
            flags.append("truncated")
    sighting, found = finish(
        file, start, drop_repeats(paras), title=title,
        author=byline.author if byline else None, date=byline.date if byline else None,
        readers=byline.readers if byline else None, url=url, flags=tuple(flags),
    )
    return Reading((sighting,), tuple(problems + found))


def one_line(tag: Tag) -> str:
    return " ".join(flatten(tag).split())


def _title(soup: BeautifulSoup, file: str, problems: list[Problem]) -> tuple[str | None, Tag | None]:
    tag = soup.select_one(TITLE)
    if tag is not None and one_line(tag):
        return one_line(tag), tag
    for selector in TITLE_FALLBACKS:
        tag = soup.select_one(selector)
        if tag is not None and one_line(tag):
            problems.append(Problem(file, where(tag), "info", f"title not in '{TITLE}'; read from '{selector}'"))
            return one_line(tag), tag
    title = page_title(soup)
    if title is not None:
        problems.append(Problem(file, where(soup.title), "warning", f"no <h1> title found; title taken from <title>: {title!r}"))
        return title, None
    line = where(soup.select_one(".title-wrap") or soup.select_one(".Post"))
    problems.append(Problem(file, line, "warning", f"no title found ('{TITLE}', <h1>, <title>): title unknown"))
    return None, None


def _body(soup: BeautifulSoup, file: str, problems: list[Problem]) -> Tag | None:
    body = soup.select_one(BODY)
    if body is not None:
        return body
    for selector in BODY_FALLBACKS:
        body = soup.select_one(selector)
        if body is not None:
            problems.append(Problem(file, where(body), "info", f"no '{BODY}'; body read from '{selector}'"))
            return body
    body = _densest(soup)
    if body is not None:
        name = body.name + "".join(f".{c}" for c in classes(body))
        message = f"no '{BODY}'; body guessed as the <{name}> holding most paragraphs"
        problems.append(Problem(file, where(body), "warning", message))
        return body
    problems.append(Problem(file, 1, "warning", f"no article body found ('{BODY}'): excerpt empty"))
    return None


def _densest(soup: BeautifulSoup) -> Tag | None:
    """The element with the most ``<p>`` children: where prose lives when names changed."""
    best, most = None, 1
    for tag in soup.find_all(("div", "section", "article", "main")):
        count = len(tag.find_all("p", recursive=False))
        if count > most:
            best, most = tag, count
    return best


def _url_elsewhere(soup: BeautifulSoup, text: str) -> str | None:
    """The canonical link, Open Graph URL, or the reprint notice's address."""
    for tag, attr in ((soup.find("link", rel="canonical"), "href"), (soup.find("meta", property="og:url"), "content")):
        if isinstance(tag, Tag):
            value = tag.get(attr)
            url = canonical_url(value if isinstance(value, str) else None)
            if url:
                return url
    m = _REPRINT_URL.search(soup.get_text() if soup.body else text)
    return canonical_url(m.group(1)) if m else None
