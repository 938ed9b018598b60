"""Snippets: a window of an excerpt around the matches, with the whole matched strings marked.

Matches are found on the folded text (exactly as the search matched them,
see ``query.occurrences``) and mapped back to the original characters with
``Folder.fold_map``, so ``擴散模型`` highlights ``扩散模型`` in full, not bigram by
bigram, and ``ﬁ``-style expansions do not shift the marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .analysis import Folder
from .query import occurrences

#: Characters of excerpt shown around the matches, and shown before the first one.
WIDTH, LEAD = 120, 30
_MAX_MATCHES = 500


class Snippet(NamedTuple):
    """Single-line text; spans are sorted, disjoint (start, end) offsets into it."""

    text: str
    spans: tuple[tuple[int, int], ...]


def match_spans(text: str, needles: Sequence[str], folder: Folder) -> list[tuple[int, int, int]]:
    """(start, end, needle index) of every match in ``text``'s original characters."""
    folded, origin = folder.fold_map(text)
    found = []
    for k, needle in enumerate(needles):
        for at in occurrences(needle, folded):
            found.append((origin[at], origin[at + len(needle) - 1] + 1, k))
            if len(found) >= _MAX_MATCHES:
                break
    return sorted(found)


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight_spans(text: str, needles: Sequence[str], folder: Folder) -> tuple[tuple[int, int], ...]:
    return tuple(_merge([(s, e) for s, e, _ in match_spans(text, needles, folder)]))


def _window(text: str, matches: list[tuple[int, int, int]]) -> tuple[int, int]:
    """The WIDTH-character window showing the most distinct needles, earliest first."""
    best, best_start = -1, 0
    for start, _, _ in matches:
        lo = max(0, start - LEAD)
        covered = len({k for s, e, k in matches if s >= lo and e <= lo + WIDTH})
        if covered > best:
            best, best_start = covered, lo
    lo = best_start
    hi = min(len(text), lo + WIDTH)
    return max(0, min(lo, hi - WIDTH)), hi


def snippet(text: str, needles: Sequence[str], folder: Folder) -> Snippet:
    """The window of ``text`` that best shows the matches, on one line, with their spans."""
    matches = match_spans(text, needles, folder)
    lo, hi = _window(text, matches) if matches else (0, min(len(text), WIDTH))
    for s, e, _ in matches:  # widen rather than cut a match in two
        if s < lo < e:
            lo = s
        if s < hi < e:
            hi = e
    spans = _merge([(s, e) for s, e, _ in matches if s >= lo and e <= hi])
    out: list[str] = ["…"] if lo > 0 else []
    index = [0] * (hi - lo + 1)  # original offset - lo -> offset in the one-line text
    for i in range(lo, hi):
        index[i - lo] = len(out)
        c = text[i]
        if not c.isspace():
            out.append(c)
        elif out and out[-1] != " ":
            out.append(" ")  # white space runs (paragraph breaks) become one space
    index[hi - lo] = len(out)
    line = "".join(out) + ("…" if hi < len(text) else "")
    shown = tuple((index[s - lo], index[e - lo]) for s, e in spans if index[e - lo] > index[s - lo])
    return Snippet(line, shown)
