"""The page plan: which pages the site has and what each one shows. Pure.

``plan(articles, problems)`` maps the records to a list of :class:`Page`;
each page's context is plain JSON-able data, so the renderer can digest it
and re-render only the pages whose inputs changed. Formulas are not rendered
here: ``Page.math`` names the articles whose rendered math the page shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .records import Article, Problem
from .series import Series, detect
from .site_text import bibtex, date_label

#: Entries per home page; the blog shows about as many.
PER_PAGE = 20
#: Entries on the popular page.
POPULAR = 100
#: What an article id may look like before it becomes a file name.
SAFE_ID = re.compile(r"[0-9a-z]{4,64}")

FLAG_TEXT = {
    "title-missing": "标题缺失：存档里没有一处给出标题",
    "year-unknown": "年份不详：抓取的页面没有给出年份",
    "excerpt-missing": "摘要缺失",
    "excerpt-conflict": "各存档的摘要不一致（取最长的一份）",
    "unbalanced-math": "公式定界符不配对",
    "date-conflict": "各存档的日期不一致（取最早的一个）",
    "author-conflict": "各存档的作者不一致",
    "url-conflict": "各存档的原文链接不一致",
}


@dataclass(frozen=True)
class Page:
    """One output file: where it goes, which template draws it, with what."""

    path: str
    template: str
    context: Mapping[str, Any]
    math: tuple[str, ...] = field(default=())


def date_order(a: Article) -> tuple[int, str, str]:
    """Newest first (as the CLI lists); day-only dates after dated ones; unknown last."""
    if a.date is None:
        return (2, "", a.id)
    rank = 1 if a.date.startswith("--") else 0
    return (rank, "".join(chr(0x10FFFF - ord(c)) for c in a.date), a.id)


def brief(a: Article, *, excerpt: bool = False) -> dict[str, Any]:
    """What a list shows of an article (the excerpt only where its opening is shown)."""
    out: dict[str, Any] = {"id": a.id, "title": a.title, "date": a.date, "label": date_label(a.date), "readers": a.readers}
    if excerpt:
        out["excerpt"] = a.excerpt
    return out


def web_url(url: str | None) -> str | None:
    """A link target only for http(s) URLs (a crawled ``javascript:`` must never become a link),
    with every character a URL may not hold percent-encoded so the href stays valid."""
    if not url or not re.match(r"https?://[^\s/?#]+", url, re.ASCII):
        return None
    encoded = quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~")
    return re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", encoded)  # a stray % becomes a literal one


def link(a: Article) -> dict[str, Any]:
    """What a link to an article shows: only its title, so a neighbour's reader
    count changing does not redraw this page."""
    return {"id": a.id, "title": a.title}


def plan(articles: Sequence[Article], *, per_page: int = PER_PAGE) -> list[Page]:
    """Every page of the site but the data-quality page (which also needs the
    build's problems, see :func:`quality_page`), in a fixed order, from the records alone."""
    ordered = sorted(articles, key=date_order)
    series = detect(ordered)
    pages = home_pages(ordered, per_page)
    pages += article_pages(ordered, series)
    pages += [content_page(ordered), popular_page(ordered), search_page(ordered)]
    pages += series_pages(ordered, series)
    return pages


def home_pages(ordered: Sequence[Article], per_page: int) -> list[Page]:
    count = max(1, -(-len(ordered) // per_page))
    pages = []
    for n in range(1, count + 1):
        chunk = ordered[(n - 1) * per_page : n * per_page]
        context = {"page": n, "pages": count, "items": [brief(a, excerpt=True) for a in chunk], "total": len(ordered)}
        pages.append(Page(home_path(n), "home.html", context, tuple(a.id for a in chunk)))
    return pages


def home_path(n: int) -> str:
    return "index.html" if n == 1 else f"page/{n}.html"


def article_pages(ordered: Sequence[Article], series: Sequence[Series]) -> list[Page]:
    """One page per record, plus a redirect page per alias."""
    place = series_places(series, {a.id: a for a in ordered})
    pages = []
    for i, a in enumerate(ordered):
        newer = link(ordered[i - 1]) if i > 0 else None
        older = link(ordered[i + 1]) if i + 1 < len(ordered) else None
        context = {
            "a": {**brief(a, excerpt=True), "author": a.author, "url": web_url(a.url), "aliases": list(a.aliases),
                  "math_count": len(a.math)},
            "flags": [{"code": f, "text": FLAG_TEXT.get(f, f)} for f in a.flags],
            "sources": [{"file": s.file, "line": s.line, "readers": s.readers} for s in a.sources],
            "newer": newer, "older": older, "series": place.get(a.id),
            "bibtex": bibtex(a.id, a.title, a.author, a.date, a.url),
        }
        pages.append(Page(f"articles/{a.id}.html", "article.html", context, (a.id,)))
    for a in ordered:
        for alias in a.aliases:
            if alias != a.id and SAFE_ID.fullmatch(alias):
                pages.append(Page(f"articles/{alias}.html", "redirect.html", {"target": a.id, "title": a.title, "alias": alias}))
    return pages


def series_places(series: Sequence[Series], by_id: Mapping[str, Article]) -> dict[str, dict[str, Any]]:
    """For each member: its series, its part number, and the parts before and after it."""
    place = {}
    for s in series:
        for i, (number, aid) in enumerate(s.members):
            prev = s.members[i - 1] if i > 0 else None
            nxt = s.members[i + 1] if i + 1 < len(s.members) else None
            place[aid] = {
                "id": s.id, "name": s.name, "number": number, "count": len(s.members),
                "prev": {"number": prev[0], **link(by_id[prev[1]])} if prev else None,
                "next": {"number": nxt[0], **link(by_id[nxt[1]])} if nxt else None,
            }
    return place


def content_page(ordered: Sequence[Article]) -> Page:
    """By year and month, like the blog's content.html; undated ones last."""
    years: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    undated = []
    for a in ordered:
        if a.date is None:
            undated.append(brief(a))
            continue
        year = "年份不详" if a.date.startswith("--") else a.date[:4]
        years[year][int(a.date[-5:-3])].append(brief(a))
    groups = [
        {"year": y, "anchor": f"y{y}" if y.isdigit() else "y-unknown", "count": sum(map(len, months.values())),
         "months": [{"month": m, "entries": items} for m, items in sorted(months.items(), reverse=True)]}
        for y, months in years.items()
    ]
    return Page("content.html", "content.html", {"groups": groups, "undated": undated, "total": len(ordered)})


def popular_page(ordered: Sequence[Article]) -> Page:
    ranked = sorted((a for a in ordered if a.readers is not None), key=lambda a: (-(a.readers or 0), a.id))[:POPULAR]
    return Page("popular.html", "popular.html", {"items": [brief(a) for a in ranked], "limit": POPULAR})


def quality_page(ordered: Sequence[Article], problems: Sequence[Problem]) -> Page:
    flagged = [{**brief(a), "flags": [{"code": f, "text": FLAG_TEXT.get(f, f)} for f in a.flags]} for a in ordered if a.flags]
    flagged.sort(key=lambda x: (x["flags"][0]["code"], x["id"]))
    tally: dict[str, int] = defaultdict(int)
    for a in ordered:
        for f in a.flags:
            tally[f] += 1
    rows = [{"where": f"{p.file}:{p.line}", "severity": p.severity, "message": p.message} for p in problems]
    return Page("quality.html", "quality.html", {
        "flagged": flagged, "tally": [{"code": f, "text": FLAG_TEXT.get(f, f), "count": n} for f, n in sorted(tally.items())],
        "problems": rows, "total": len(ordered),
    })


def search_page(ordered: Sequence[Article]) -> Page:
    years = sorted({a.year for a in ordered if a.year is not None}, reverse=True)
    return Page("search.html", "search.html", {"years": years, "total": len(ordered)})


def series_pages(ordered: Sequence[Article], series: Sequence[Series]) -> list[Page]:
    by_id = {a.id: a for a in ordered}
    ranked = sorted(series, key=lambda s: (-len(s.members), s.name, s.id))
    listing = [{"id": s.id, "name": s.name, "count": len(s.members), "first": s.members[0][0], "last": s.members[-1][0]}
               for s in ranked]
    pages = [Page("series/index.html", "series_index.html", {"series": listing})]
    for s in series:
        members, last = [], 0
        for n, aid in s.members:
            # parts the archive does not hold are said so, where they would stand
            gap = [last + 1, n - 1] if n - 1 > last else None
            members.append({"number": n, "gap": gap, **brief(by_id[aid], excerpt=True)})
            last = max(last, n)
        context = {"id": s.id, "name": s.name, "members": members}
        pages.append(Page(f"series/{s.id}.html", "series.html", context, tuple(aid for _, aid in s.members)))
    return pages
