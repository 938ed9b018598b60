"""Excerpt text to HTML, and the small text formats the site shows.

The excerpt is prose with TeX in it. Python-Markdown must never see the TeX
(it would eat ``_`` and ``*`` as emphasis), so the excerpt is cut at the spans
:func:`tex.scan` reports, each formula is replaced by a placeholder, Markdown
runs on the prose with every raw-HTML and link/image feature switched off
(an excerpt is crawled text, not trusted markup: ``<script>`` must come out
as text and ``![](http://…)`` must not make the page load anything), and
the rendered formulas are put back in place of the placeholders.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Protocol

import markdown
from markupsafe import Markup, escape

from .tex import scan

# C0/C1 controls (but tab and newline), surrogates and noncharacters are not
# allowed in an HTML document; NUL in a dump must not make an invalid page.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_PLACEHOLDER = re.compile("\ue000([0-9]+)\ue001")
_SPACE = re.compile(r"\s+")
#: Markdown features that would let crawled text inject markup or fetch URLs.
_BLOCKED_INLINE = (
    "html", "entity", "link", "image_link", "image_reference", "reference", "short_reference",
    "short_image_ref", "autolink", "automail",
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Rendered(Protocol):
    """What the math renderer gives back per formula (see mathrender)."""

    @property
    def html(self) -> str: ...

    @property
    def ok(self) -> bool: ...


def clean(text: str) -> str:
    """``text`` with characters no HTML page may hold replaced by U+FFFD (same length)."""
    return _FORBIDDEN.sub("\ufffd", text)


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(extensions=[], output_format="html")
    md.preprocessors.deregister("html_block")
    md.parser.blockprocessors.deregister("reference")
    for name in _BLOCKED_INLINE:
        md.inlinePatterns.deregister(name)
    return md


_MD = _markdown()


def prose_to_html(text: str) -> str:
    """Markdown of crawled prose: paragraphs, emphasis, lists; never raw HTML."""
    _MD.reset()
    # Markdown keeps character references such as &#0; as they are; crawled text
    # means a literal ampersand, so it travels as a placeholder and comes back escaped.
    return _MD.convert(text.replace("&", "\ue002")).replace("\ue002", "&amp;")


def excerpt_html(excerpt: str, rendered: Sequence[Rendered]) -> Markup:
    """The excerpt as HTML: Markdown on the prose, ``rendered[i]`` for formula i."""
    spans = scan(excerpt).spans
    pieces: list[str] = []
    at = 0
    for i, (start, end) in enumerate(spans):
        pieces.append(_prose(excerpt[at:start]))
        pieces.append(f"\ue000{i}\ue001")
        at = end
    pieces.append(_prose(excerpt[at:]))
    html = prose_to_html("".join(pieces))

    def put_back(m: re.Match[str]) -> str:
        i = int(m.group(1))
        if i < len(rendered):
            return rendered[i].html
        start, end = spans[i]
        return math_error(excerpt[start:end])

    return Markup(_PLACEHOLDER.sub(put_back, html))  # Markdown escaped the prose; math HTML is KaTeX's


def _prose(text: str) -> str:
    """Prose ready for Markdown: no placeholder characters, ``\\$`` is a dollar."""
    return re.sub("[\ue000-\ue002]", "", text).replace("\\$", "$")


def math_error(tex: str) -> str:
    """How a formula that could not be rendered is shown: its TeX, escaped."""
    return f'<code class="math-error">{escape(tex)}</code>'


def opening_html(excerpt: str, rendered: Sequence[Rendered], limit: int = 140) -> Markup:
    """The start of the excerpt for lists: prose and inline math up to ``limit``
    characters, stopping before the first display formula."""
    found = scan(excerpt)
    out: list[str] = []
    used, at, cut = 0, 0, False
    for i, ((start, end), formula) in enumerate(zip(found.spans, found.math, strict=True)):
        used = _add_prose(out, excerpt[at:start], used, limit)
        if used >= limit or formula.display:
            cut = True
            break
        out.append(rendered[i].html if i < len(rendered) else math_error(formula.tex))
        used, at = used + max(1, len(formula.tex) // 3), end
    else:
        used = _add_prose(out, excerpt[at:], used, limit)
        cut = used >= limit
    text = "".join(out).rstrip()
    return Markup(text + ("…" if cut and text else ""))  # prose escaped above


def _add_prose(out: list[str], prose: str, used: int, limit: int) -> int:
    prose = _SPACE.sub(" ", _prose(prose))
    room = limit - used
    out.append(str(escape(prose[:room])))
    return used + min(len(prose), room) if len(prose) <= room else limit


@functools.lru_cache(maxsize=4096)
def date_label(date: str | None) -> str:
    """``2024-04-23`` → 2024年4月23日; ``--12-11`` → 12月11日（年份不详）."""
    if not date:
        return "日期不详"
    m = re.fullmatch(r"(\d{4}|-)-(\d\d)-(\d\d)", date)
    if not m:
        return date
    month, day = int(m.group(2)), int(m.group(3))
    if m.group(1) == "-":
        return f"{month}月{day}日（年份不详）"
    return f"{int(m.group(1))}年{month}月{day}日"


def _bib(text: str) -> str:
    """A BibTeX field value: braces balanced by escaping them, no line breaks."""
    return _SPACE.sub(" ", text).replace("\\", "\\textbackslash{}").replace("{", "\\{").replace("}", "\\}")


def bibtex(article_id: str, title: str | None, author: str | None, date: str | None, url: str | None) -> str:
    """A citation in the form of the blog's own "引用" block."""
    m = re.search(r"/archives/(\d+)", url or "")
    lines = [f"@online{{kexuefm-{m.group(1) if m else article_id},", f"        title={{{_bib(title or '(无标题)')}}},"]
    if author:
        lines.append(f"        author={{{_bib(author)}}},")
    if date and re.fullmatch(r"\d{4}-\d\d-\d\d", date):
        lines.append(f"        year={{{date[:4]}}},")
        lines.append(f"        month={{{_MONTHS[int(date[5:7]) - 1]}}},")
    if url:
        lines.append(f"        url={{\\url{{{_bib(url)}}}}},")
    lines.append("}")
    return "\n".join(lines)
