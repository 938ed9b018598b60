"""What kind of page a dump is, from a few regexes: the readers' table asks here first.

Kept apart from the HTML and RSS readers so that telling kinds apart costs no
import of BeautifulSoup or lxml (~0.1 s): a build whose new dumps are all
plain text never loads them (see ``readers.KINDS``).
"""

from __future__ import annotations

import re

#: The year headings of the archive page (文章归档): "2024年（共 12 篇）".
YEAR = re.compile(r"(\d{4})\s*年\s*[（(]\s*共\s*(\d+)\s*篇\s*[）)]")
_RSS = re.compile(r"\s*(?:<\?xml[^>]*\?>\s*|<\?xml-stylesheet[^>]*\?>\s*|<!--.*?-->\s*)*<(?:rss|channel)[\s>]", re.DOTALL)
_HTML_START = re.compile(r"^<(?:!doctype\s+html|html|head|body|div|meta|title|!--)", re.IGNORECASE)
_HTML_MARKUP = re.compile(r"<(?:html|body|div)[\s>]", re.IGNORECASE)
#: A listing's entries: "read more" links, or the theme's title blocks holding an <h2>.
_LISTING = re.compile(r"点击阅读全文|title-wrap[^>]*>\s*<h2", re.IGNORECASE)
#: An article page's own title: whatever else it links to, it is not a listing.
_ARTICLE_TITLE = re.compile(r"title-wrap[^>]*>\s*<h1", re.IGNORECASE)


def is_html(text: str) -> bool:
    """An HTML page (not a text dump that quotes some markup): it starts with a tag."""
    head = text.lstrip("\ufeff \t\r\n")
    return bool(_HTML_START.match(head)) and bool(_HTML_MARKUP.search(text))


def rss(text: str) -> bool:
    return bool(_RSS.match(text.lstrip("\ufeff")))


def html_content(text: str) -> bool:
    """The archive page: year headings with their article counts."""
    return is_html(text) and bool(YEAR.search(text))


def html_listing(text: str) -> bool:
    return is_html(text) and bool(_LISTING.search(text)) and not _ARTICLE_TITLE.search(text)


def html_article(text: str) -> bool:
    """Any blog page that is not a listing or the archive page: the fallback HTML kind."""
    return is_html(text)
