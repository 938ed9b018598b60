"""HTML to excerpt paragraphs, shared by the HTML readers and the RSS reader.

The blog writes raw TeX into its HTML and lets MathJax typeset it in the
browser, so the text of the markup *is* the article: formulas must come out
exactly as written. ``get_text`` is not enough: it glues block elements
together and cannot tell a ``<br>`` from source indentation. Here a block
(``p``, heading, list, table, code, figure) becomes one paragraph; ``<br>``
and block boundaries inside it become newlines; source line breaks inside a
text node are kept as written (they are part of a multi-line formula); each
line is trimmed and empty lines dropped, so a paragraph never contains a blank
line (that would read as a paragraph break). Figures keep their caption once.

BeautifulSoup's lxml builder records no source lines (only html.parser does),
so :func:`parse` stamps each tag with the line libxml2 reports for the same
element in its own parse of the same text (lxml, fed the same way): both see the
same parser events, so the elements pair up in document order.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction
from lxml import etree

from .common import REPRINT_PREFIXES, Para

#: Never text: scripts, styles, widgets.
SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "form", "button", "select", "textarea", "svg", "head"})
#: Elements that end a line inside a flattened block.
LINE_BREAKING = frozenset(
    {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "blockquote", "section", "article",
     "h1", "h2", "h3", "h4", "h5", "h6", "pre", "figure", "figcaption", "center", "hr", "header", "footer"}
)
#: Block elements that are one paragraph each.
PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "address"})
#: Block elements whose children are paragraphs of their own.
CONTAINER = frozenset({"div", "blockquote", "section", "article", "main", "center", "header", "footer", "body", "html"})
#: Where an article body's tail starts: reprint notice box, tip jar, citation.
TAIL_IDS = frozenset({"content_tips", "pay", "how_to_cite", "comments", "tools"})
_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)


def parse(text: str) -> BeautifulSoup:
    """BeautifulSoup over lxml, with ``sourceline`` set on every tag it can."""
    text = text.replace("\x00", "\ufffd")  # libxml2 stops at a NUL; a crawl can hold one
    soup = BeautifulSoup(text, "lxml")
    _stamp_lines(soup, text)
    return soup


def _stamp_lines(soup: BeautifulSoup, text: str) -> None:
    """Pair our tags with libxml2's elements in document order and copy their lines.

    On well-formed pages the two sequences are identical. On badly broken
    markup they can differ by a few recovered tags; then only the tags that
    align are stamped, and the others fall back to their parent's line.
    """
    tree = _libxml2_tree(text)
    if tree is None:
        return
    elements = [e for e in tree.iter() if isinstance(e.tag, str)]
    tags = soup.find_all(True)
    theirs, ours = [str(e.tag) for e in elements], [t.name for t in tags]
    if theirs == ours:
        pairs: Iterable[tuple[int, int]] = zip(range(len(ours)), range(len(ours)), strict=True)
    else:
        blocks = SequenceMatcher(None, theirs, ours, autojunk=False).get_matching_blocks()
        pairs = ((a + k, b + k) for a, b, size in blocks for k in range(size))
    for a, b in pairs:
        tags[b].sourceline = elements[a].sourceline


def _libxml2_tree(text: str) -> etree._Element | None:
    """The tree libxml2 builds when fed the text the way BeautifulSoup feeds it.

    Push mode (``feed``), like bs4's lxml builder: libxml2's push and pull
    parsers recover differently from broken markup (a stray ``</html>`` ends
    a pull parse, not a push parse).
    """
    parser = etree.HTMLParser(recover=True)
    try:
        parser.feed(text)
        return parser.close()
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):  # nothing parseable: lines unknown
        return None


def line_of(node: Tag | NavigableString | None, default: int = 1) -> int:
    """The source line of ``node``, else of the nearest tag before it that has one.

    A bare string starts where the tag before it ends (or its parent starts),
    plus the line breaks before its first visible character. A tag libxml2
    did not keep (markup after a stray ``</html>``) gets the line of the
    nearest stamped tag before it: a lower bound, never past the truth.
    """
    if isinstance(node, NavigableString):
        text = str(node)
        lead = text[: len(text) - len(text.lstrip())].count("\n")
        previous = node.previous_sibling
        if isinstance(previous, Tag) and previous.sourceline:
            return int(previous.sourceline) + str(previous).count("\n") + lead
        return line_of(node.parent, default) + lead
    if node is None:
        return default
    if node.sourceline:
        return int(node.sourceline)
    before = node.find_previous(_stamped)
    return int(before.sourceline) if isinstance(before, Tag) and before.sourceline else default


def _stamped(tag: Tag) -> bool:
    return bool(tag.sourceline)


def classes(tag: Tag) -> list[str]:
    value = tag.get("class")
    return list(value) if isinstance(value, list) else (value or "").split()


def tidy(text: str) -> str:
    """Trim every line and drop empty ones: a paragraph never holds a blank line."""
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def flatten(node: Tag | NavigableString) -> str:
    """The text of an inline run: ``<br>`` and nested blocks become newlines."""
    out: list[str] = []
    _flatten(node, out)
    return tidy("".join(out))


def _flatten(node: Tag | NavigableString, out: list[str]) -> None:
    if isinstance(node, NavigableString):
        if not isinstance(node, _NOT_TEXT):
            out.append(str(node))
        return
    name = node.name
    tex = math_script(node)
    if tex is not None:
        out.append(tex)
        return
    if name in SKIP or _is_rendered_math(node):
        return
    if name == "br":
        out.append("\n")
        return
    if name in ("td", "th") and node.find_previous_sibling(("td", "th")) is not None:
        out.append(" | ")
    breaks = name in LINE_BREAKING
    if breaks:
        out.append("\n")
    for child in node.children:
        _flatten(child, out)  # type: ignore[arg-type]  # children are tags or strings
    if breaks:
        out.append("\n")


def _is_rendered_math(tag: Tag) -> bool:
    """MathJax output saved with the page: the raw TeX is kept next to it."""
    return tag.name.startswith("mjx-") or any(c.startswith("MathJax") for c in classes(tag))


def math_script(tag: Tag) -> str | None:
    """The TeX MathJax 2 moved into ``<script type="math/tex">`` when the page was saved
    after typesetting, given back its delimiters; None for any other tag."""
    kind = str(tag.get("type") or "")
    if tag.name != "script" or not kind.startswith("math/tex"):
        return None
    tex = tag.get_text()
    if "mode=display" not in kind:
        return f"${tex}$"
    return tex if tex.lstrip().startswith("\\begin{") else f"$${tex}$$"


def caption_of(figure: Tag) -> str:
    """A figure's caption once: the caption text, else the image's alt."""
    for selector in ("p.typecho-caption-text", "figcaption", ".caption"):
        found = figure.select_one(selector)
        if found is not None and flatten(found):
            return flatten(found)
    return alt_of(figure)


def alt_of(tag: Tag) -> str:
    alts = [str(img.get("alt") or "").strip() for img in tag.find_all("img")]
    return "\n".join(a for a in alts if a)


def is_tail(tag: Tag) -> bool:
    """Where an article body stops being the article."""
    return str(tag.get("id") or "") in TAIL_IDS


class Blocks:
    """Walk a container in document order, one paragraph per block.

    ``stopped`` tells whether the walk ended at the body's tail (reprint
    notice, tip jar, citation), i.e. whether the body was seen to its end.
    """

    def __init__(self, stop_at_tail: bool = True) -> None:
        self.paras: list[Para] = []
        self.stopped = False
        self.stop_at_tail = stop_at_tail

    def walk(self, container: Tag) -> list[Para]:
        self._container(container)
        return self.paras

    def _add(self, text: str, node: Tag | NavigableString) -> None:
        if text:
            self.paras.append(Para(text, line_of(node)))
            if self.stop_at_tail and text.startswith(REPRINT_PREFIXES):
                self.stopped = True

    def _container(self, container: Tag) -> None:
        run: list[Tag | NavigableString] = []
        for child in list(container.children):
            if self.stopped:
                return
            if isinstance(child, NavigableString):
                if not isinstance(child, _NOT_TEXT):
                    run.append(child)
                continue
            if isinstance(child, Tag) and math_script(child) is not None:
                run.append(child)
                continue
            if not isinstance(child, Tag) or child.name in SKIP or _is_rendered_math(child):
                continue
            if self.stop_at_tail and is_tail(child):
                self._flush(run)
                self.stopped = True
                return
            if child.name in LINE_BREAKING or child.name in CONTAINER or child.name == "img":
                self._flush(run)
                run = []
                self._block(child)
            else:
                run.append(child)
        self._flush(run)

    def _flush(self, run: Iterable[Tag | NavigableString]) -> None:
        nodes = list(run)
        out: list[str] = []
        for node in nodes:
            _flatten(node, out)
        text = tidy("".join(out))
        if text:
            self._add(text, nodes[0])

    def _block(self, tag: Tag) -> None:
        name = tag.name
        if "typecho-caption" in classes(tag) or name == "figure":
            self._add(caption_of(tag), tag)
        elif name == "img":
            self._add(str(tag.get("alt") or "").strip(), tag)
        elif name == "pre":
            self._add(tag.get_text().strip("\n").rstrip(), tag)
        elif name in ("ul", "ol"):
            self._add(flatten(tag), tag)
        elif name == "table":
            rows = [flatten(row).replace("\n", " ") for row in tag.find_all("tr")]
            self._add("\n".join(r for r in rows if r), tag)
        elif name in PARAGRAPH:
            self._paragraph(tag)
        else:  # div, blockquote, section...: its children are the blocks
            self._container(tag)

    def _paragraph(self, tag: Tag) -> None:
        self._add(flatten(tag) or alt_of(tag), tag)


def paragraphs(container: Tag, *, stop_at_tail: bool = True) -> tuple[list[Para], bool]:
    """The paragraphs of ``container`` and whether its tail was reached."""
    walker = Blocks(stop_at_tail)
    return walker.walk(container), walker.stopped


def html_paragraphs(html: str, first_line: int = 1) -> list[Para]:
    """Paragraphs of an HTML fragment (an RSS item's content), lines offset to the feed."""
    soup = parse(html)
    root = soup.body or soup
    paras, _ = paragraphs(root, stop_at_tail=True)
    return [Para(p.text, p.line + first_line - 1) for p in paras]
