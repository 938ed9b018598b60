"""The in-page search's data: the records and the folding table, as .js files.

Under file:// a page may not ``fetch()`` a JSON file, but it may load a
script, so the data ships as scripts assigning globals. Serialisation is
JSON with ``<``, ``>``, ``&`` and the JS line separators escaped, so a
title holding ``</script>`` or ``<!--`` cannot end or comment out anything.

The query semantics are the CLI's (#3): a document matches a term when the
folded term is a substring of the folded text, where folding is NFKC, then
lower case, then traditional → simplified character by character. The
folding table comes from :mod:`kexue_archive.analysis` (the search engine's
own), so the page and the CLI agree by construction.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from . import analysis, query
from .records import Article

_JS_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
#: Code points the page may meet (the BMP and the CJK extension planes).
_PLANES = ((0x0, 0xD7FF), (0xE000, 0x3FFFF))


def js_literal(data: Any) -> str:
    """``data`` as a JS expression that is safe anywhere, even inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JS_UNSAFE[m.group()], text)


def index_data(articles: Sequence[Article]) -> dict[str, Any]:
    """The records as the page searches them, fields as the CLI's index has them.

    items: [id, title, date, readers, author index, excerpt, math offsets], where
    the math field (the formulas' TeX joined by newlines, as in the CLI index)
    is rebuilt from (start, end) offsets into the excerpt rather than shipped twice
    (an offset may point at an earlier copy of the same TeX: the field is the same).
    """
    authors = sorted({a.author for a in articles if a.author})
    which = {name: i for i, name in enumerate(authors)}
    items = []
    for a in articles:
        offsets: list[int] = []
        at = 0
        for m in a.math:  # each formula's TeX is a substring of the excerpt, in order
            found = a.excerpt.find(m.tex, at)
            if found < 0:
                break  # a record whose math does not match its excerpt: the page searches no math for it
            offsets += [found, found + len(m.tex)]
            at = found + len(m.tex)
        items.append([a.id, a.title or "", a.date or "", a.readers, which.get(a.author or "", -1), a.excerpt, offsets])
    return {"authors": authors, "items": items}


def index_script(articles: Sequence[Article]) -> str:
    """The search index as a script: ``window.KEXUE_INDEX = {...}``."""
    return "window.KEXUE_INDEX=" + js_literal(index_data(articles)) + ";\n"


def fold_data() -> dict[str, Any]:
    """What the page needs to fold exactly as :func:`analysis.fold` does.

    The page folds a character as ``t2s(NFKC(c).toLowerCase())`` unless it is in
    ``exceptions``: every character (of the planes above) whose true fold differs
    from that cheap formula (case-folding specials, invisible and control
    characters), computed here from the CLI's own function. ``spaces`` is what
    Python calls white space (the query lexer splits on it); ``cjk`` the ranges
    whose characters are not word characters.
    """
    t2s = analysis.t2s_table()
    exceptions = {}
    for lo, hi in _PLANES:
        for code in range(lo, hi + 1):
            c = chr(code)
            true = analysis.fold_char(c, t2s)
            cheap = "".join(t2s.get(ch, ch) for ch in unicodedata.normalize("NFKC", c).lower())
            if true != cheap:
                exceptions[c] = true
    spaces = "".join(chr(c) for lo, hi in _PLANES for c in range(lo, hi + 1) if chr(c).isspace())
    return {"t2s": t2s, "exceptions": exceptions, "spaces": spaces, "cjk": analysis.CJK_RANGES,
            "fields": list(query.FIELDS), "default": list(query.DEFAULT_FIELDS)}


def fold_script() -> str:
    """The folding data as a script: ``window.KEXUE_FOLD = {...}``."""
    return "window.KEXUE_FOLD=" + js_literal(fold_data()) + ";\n"
