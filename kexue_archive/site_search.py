"""The in-page search's data: the records and the folding table, as .js files.

Under file:// a page may not ``fetch()`` a JSON file, but it may load a
script, so the data ships as scripts assigning globals. Serialisation is
JSON with ``<``, ``>``, ``&`` and the JS line separators escaped, so a
title holding ``</script>`` or ``<!--`` cannot end or comment out anything.

The records ship in shards (``assets/search/NN.js``, by a stable hash of
the id) so that a new article rewrites one small file, not all of them.

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


def item(a: Article) -> list[Any]:
    """An article as the page searches it, fields as the CLI's index has them:
    [id, title, date, readers, author, excerpt, math offsets], where the math field
    (the formulas' TeX joined by newlines, as in the CLI index) is rebuilt from
    (start, end) offsets into the excerpt rather than shipped twice (an offset may
    point at an earlier copy of the same TeX: the field is the same)."""
    offsets: list[int] = []
    at = 0
    for m in a.math:  # each formula's TeX is a substring of the excerpt, in order
        found = a.excerpt.find(m.tex, at)
        if found < 0:
            break  # a record whose math does not match its excerpt: the page searches no math for it
        offsets += [found, found + len(m.tex)]
        at = found + len(m.tex)
    return [a.id, a.title or "", a.date or "", a.readers, a.author or "", a.excerpt, offsets]


def item_line(a: Article) -> str:
    """One article's line of a shard (JSON escapes line breaks, so an item is one line)."""
    return js_literal(item(a))


_HEAD = "(window.KEXUE_SHARDS=window.KEXUE_SHARDS||[]).push([\n"
_TAIL = "\n]);\n"
_LINE_ID = re.compile(r'\["([0-9a-z]+)"')


def shard_script(lines: Sequence[str]) -> str:
    """A shard of the search data: items sorted by id, one a line, appended to one global list.

    The page loads every shard with a plain <script> (file:// forbids fetch) and orders
    the items by date itself, so results never depend on which shard holds what."""
    return _HEAD + ",\n".join(sorted(lines, key=_line_id)) + _TAIL


def shard_lines(script: str) -> dict[str, str] | None:
    """The items of a shard this module wrote, by id; None when it is not one."""
    if not (script.startswith(_HEAD) and script.endswith(_TAIL)):
        return None
    body = script[len(_HEAD) : -len(_TAIL)]
    if not body:
        return {}
    out = {}
    for line in body.split(",\n"):
        m = _LINE_ID.match(line)
        if m is None:
            return None
        out[m.group(1)] = line
    return out


def _line_id(line: str) -> str:
    m = _LINE_ID.match(line)
    return m.group(1) if m else ""


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
