"""Find the formulas in an excerpt, the way the blog's MathJax set-up does.

Delimiters: ``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]`` and the math
environments ``\\begin{equation|align|…}…\\end{…}``. ``\\$`` is a literal
dollar, never math. An opening delimiter with no partner is reported (with
its offset) rather than guessed at: the archive flags it ``unbalanced-math``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .records import Math

#: Environments MathJax typesets on their own, outside any ``$``.
MATH_ENVIRONMENTS = frozenset(
    {
        "equation", "equation*", "align", "align*", "aligned", "gather", "gather*",
        "multline", "multline*", "eqnarray", "eqnarray*", "alignat", "alignat*",
        "flalign", "flalign*", "split", "CD", "array", "matrix", "pmatrix",
        "bmatrix", "vmatrix", "cases",
    }
)

_BEGIN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")
_SPECIAL = re.compile(r"[\\$]")


@dataclass(frozen=True)
class Scan:
    """The formulas found, where each one stands, and the delimiters left open.

    spans[i] is the (start, end) offset of math[i] in the text, delimiters
    included, so a renderer can cut the text into prose and formulas.
    """

    math: tuple[Math, ...]
    spans: tuple[tuple[int, int], ...]
    unbalanced: tuple[tuple[int, str], ...]


def _find_unescaped(text: str, needle: str, start: int) -> int:
    """Offset of ``needle`` at or after ``start`` not preceded by a backslash."""
    while True:
        at = text.find(needle, start)
        if at <= 0 or text[at - 1] != "\\":
            return at
        start = at + 1


def _env_end(text: str, env: str, start: int) -> int:
    """Offset just past the ``\\end{env}`` closing the one opened before ``start``."""
    begin, end = f"\\begin{{{env}}}", f"\\end{{{env}}}"
    depth, at = 1, start
    while depth:
        next_end = text.find(end, at)
        if next_end < 0:
            return -1
        next_begin = text.find(begin, at, next_end)
        if next_begin >= 0:
            depth, at = depth + 1, next_begin + len(begin)
        else:
            depth, at = depth - 1, next_end + len(end)
    return at


def scan(text: str) -> Scan:
    """Every formula of ``text`` in order, plus the delimiters left open."""
    found: list[Math] = []
    spans: list[tuple[int, int]] = []
    unbalanced: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "\\" and ch != "$":  # prose: jump to the next backslash or dollar (in C)
            m = _SPECIAL.search(text, i)
            if m is None:
                break
            i = m.start()
            ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "([":
                close = "\\)" if nxt == "(" else "\\]"
                end = text.find(close, i + 2)
                if end < 0:
                    unbalanced.append((i, f"'\\{nxt}' is never closed"))
                    i += 2
                    continue
                found.append(Math(text[i + 2 : end], display=nxt == "["))
                spans.append((i, end + 2))
                i = end + 2
                continue
            m = _BEGIN.match(text, i)
            if m and m.group(1) in MATH_ENVIRONMENTS:
                end = _env_end(text, m.group(1), m.end())
                if end < 0:
                    unbalanced.append((i, f"'\\begin{{{m.group(1)}}}' is never closed"))
                    i = m.end()
                    continue
                found.append(Math(text[i:end], display=True))
                spans.append((i, end))
                i = end
                continue
            i += 2  # any other command, including the literal dollar \$
            continue
        if ch == "$":
            display = text.startswith("$$", i)
            delim = "$$" if display else "$"
            end = _find_unescaped(text, delim, i + len(delim))
            # Inline math never crosses a paragraph break: MathJax would not.
            if end < 0 or (not display and "\n\n" in text[i:end]):
                unbalanced.append((i, f"stray '{delim}' with no closing '{delim}'"))
                i += len(delim)
                continue
            found.append(Math(text[i + len(delim) : end], display=display))
            spans.append((i, end + len(delim)))
            i = end + len(delim)
            continue
        i += 1
    return Scan(tuple(found), tuple(spans), tuple(unbalanced))


def line_of(text: str, offset: int) -> int:
    """0-based line number of ``offset`` within ``text``."""
    return text.count("\n", 0, offset)
