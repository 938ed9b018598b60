"""Number an article's equations the way LaTeX would, and resolve ``\\label``/``\\eqref``/``\\ref``.

KaTeX numbers equations with a CSS counter that knows nothing of labels, and it
renders each formula alone, so a reference in formula 9 to a label in formula 2
cannot work there. This module therefore does the numbering itself, over all the
formulas of one article, in order:

- every ``equation``/``multline`` gets one number, every line of ``align``/``gather``/
  ``alignat``/``flalign``/``eqnarray`` one each, except lines with ``\\nonumber``/``\\notag``
  and an empty last line; ``\\tag{…}`` replaces the number; starred forms get none;
- the numbered environment becomes its starred form with an explicit ``\\tag{n}`` per
  line (so KaTeX shows our numbers, never its counter); environments KaTeX lacks are
  mapped: ``multline`` -> ``gather*``, ``flalign``/``eqnarray`` -> ``align*``;
- ``\\label{k}`` is removed and remembered; ``\\eqref{k}`` becomes a placeholder
  ``\\text{<OPEN><i><CLOSE>}`` (``i``: its index among the formula's references, ``refs``)
  and ``\\ref{k}`` the same; an unknown label reads ``(??)`` (``??``), as in LaTeX, unlinked.

KaTeX runs with ``trust: false`` and so makes no link at all: the renderer (mathrender)
turns each placeholder KaTeX passed through into ``<a href="#eq-…">(n)</a>`` in the HTML
and plain ``(n)`` in the MathML. OPEN/CLOSE are private-use characters (plane 15: KaTeX's
lexer refuses the BMP private-use area) stripped from the input first, so an author cannot
write one. The anchors (HTML ids) of each formula are returned so the renderer can place them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .texfix import argument_end, clean, command_end, group_end, skip_space

#: numbered environment -> (KaTeX environment to render it as, one number per line?)
_NUMBERED = {
    "equation": ("equation*", False),
    "multline": ("gather*", False),
    "align": ("align*", True),
    "gather": ("gather*", True),
    "alignat": ("alignat*", True),
    "flalign": ("align*", True),
    "eqnarray": ("align*", True),
}
_BEGIN = re.compile(r"\\begin\s*\{\s*([A-Za-z]+)(\*?)\s*\}")
#: The environments KaTeX renders only in display mode, as this module leaves them.
DISPLAY_ONLY = re.compile(r"\\begin\{(?:(?:equation|align|alignat|gather)\*|CD)\}")
_LINE_SKIP = re.compile(r"^\s*\[[^\]]*\]")
_MARKS = re.compile(r"\\(?:label|tag|nonumber|notag)(?![A-Za-z])")
#: The shape of every anchor id, and so of every link KaTeX may render.
ANCHOR = re.compile(r"eq-[A-Za-z0-9]+-t?[0-9]+")
#: The sentinels around a reference placeholder's index; never left in the input.
OPEN, CLOSE = "\U000f0000", "\U000f0001"
#: A placeholder as KaTeX passes it through (the index: into ``Numbered.refs`` of its formula).
PLACEHOLDER = re.compile(f"{OPEN}([0-9]+){CLOSE}")
_SENTINELS = str.maketrans("", "", OPEN + CLOSE)


@dataclass(frozen=True)
class Numbered:
    """An article's formulas after numbering.

    texs:    each formula rewritten: explicit ``\\tag``s, no ``\\label``, references resolved.
    anchors: for each formula, the HTML ids of the numbered lines it holds.
    shown:   for each formula, the tags its environments' lines show (``(3)``, or ``x`` for
             ``\\tag*{x}``), in order: KaTeX leaves them out of its MathML, the renderer puts them back.
    labels:  label -> (text shown by ``\\ref``, anchor id).
    refs:    for each formula, (text shown, anchor id) per placeholder, by index.
    """

    texs: tuple[str, ...]
    anchors: tuple[tuple[str, ...], ...]
    shown: tuple[tuple[str, ...], ...]
    labels: dict[str, tuple[str, str]]
    refs: tuple[tuple[tuple[str, str], ...], ...]


class _Counter:
    """The article's running equation number and the labels met so far."""

    def __init__(self, prefix: str) -> None:
        self.prefix, self.number, self.tags = prefix, 0, 0
        self.labels: dict[str, tuple[str, str]] = {}
        self.anchors: list[str] = []
        self.shown: list[str] = []

    def line(self, row: str, numbered: bool, in_environment: bool = True) -> str:
        """One line of a display: strip its labels, give it a number (or honour its tag)."""
        row, labels, tag, nonumber = _line_marks(row)
        text = None
        if tag is not None:
            self.tags += 1
            text, anchor = tag[0], f"{self.prefix}t{self.tags}"
            shown = text if tag[1] else f"({text})"
        elif numbered and not nonumber and not _blank(row):
            self.number += 1
            text, anchor, shown = str(self.number), f"{self.prefix}{self.number}", f"({self.number})"
            row = f"{row}\\tag{{{self.number}}}"
        if text is not None:
            self.anchors.append(anchor)
            if in_environment:
                self.shown.append(shown)
        for label in labels:
            self.labels.setdefault(label, (text, anchor) if text is not None else ("??", ""))
        return row


def _blank(row: str) -> bool:
    """Whether a line holds nothing but space (and the ``[3pt]`` of the ``\\\\`` before it)."""
    return not _LINE_SKIP.sub("", row, count=1).strip()


def _tokens(tex: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every control sequence in ``tex`` (name without backslash)."""
    out, i = [], 0
    while (i := tex.find("\\", i)) >= 0:
        end = command_end(tex, i)
        out.append((i, end, tex[i + 1 : end]))
        i = end
    return out


def _line_marks(row: str) -> tuple[str, list[str], tuple[str, bool] | None, bool]:
    """``row`` without ``\\label``/``\\nonumber``/``\\notag``; its labels; its ``\\tag`` (text, starred); unnumbered?"""
    if not _MARKS.search(row):
        return row, [], None, False
    out: list[str] = []
    labels: list[str] = []
    tag: tuple[str, bool] | None = None
    nonumber, at = False, 0
    for start, end, name in _tokens(row):
        if start < at:
            continue
        if name in ("nonumber", "notag"):
            out.append(row[at:start])
            nonumber, at = True, end
        elif name in ("label", "tag"):
            starred = name == "tag" and row.startswith("*", end)
            arg_at = end + 1 if starred else end
            arg_end = argument_end(row, arg_at)
            if arg_end < 0:
                continue
            text = row[skip_space(row, arg_at) : arg_end].strip()
            text = text[1:-1].strip() if text.startswith("{") else text
            if name == "tag":
                tag = tag if tag is not None else (text, starred)
                continue
            out.append(row[at:start])
            labels.append(text)
            at = arg_end
    out.append(row[at:])
    return "".join(out), labels, tag, nonumber


def split_top(body: str, sep: str) -> list[str]:
    """``body`` cut at the ``sep`` (``\\\\`` or ``&``) standing outside braces and nested environments."""
    parts, start, depth, i, n = [], 0, 0, 0, len(body)
    while i < n:
        c = body[i]
        if c == "\\":
            end = command_end(body, i)
            name = body[i + 1 : end]
            depth += {"begin": 1, "end": -1}.get(name, 0)
            if depth == 0 and sep == "\\\\" and name == "\\":
                parts.append(body[start:i])
                start = i + 2
            i = end
            continue
        if c in "{}":
            depth += 1 if c == "{" else -1
        elif c == "&" and sep == "&" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    return parts


def _env_end(tex: str, name: str, start: int) -> tuple[int, int]:
    """(start of ``\\end{name}``, offset past it) for the environment opened before ``start``."""
    depth, i = 1, start
    pattern = re.compile(r"\\(begin|end)\s*\{\s*" + re.escape(name) + r"\s*\}")
    while m := pattern.search(tex, i):
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return m.start(), m.end()
        i = m.end()
    return -1, -1


def _environment(body: str, name: str, starred: bool, counter: _Counter) -> str:
    """The body of one numbered(-able) environment, numbered."""
    if not _NUMBERED[name][1]:  # one number for the whole display, on its last line
        return counter.line(body, numbered=not starred)
    rows = split_top(body, "\\\\")
    out = []
    for k, row in enumerate(rows):
        if name == "eqnarray":  # rcl columns: keep the relation with the right-hand side
            cells = split_top(row, "&")
            row = "&".join([cells[0], " ".join(cells[1:3]), *cells[3:]]) if len(cells) >= 3 else row
        last_empty = k == len(rows) - 1 and k > 0 and _blank(row)
        out.append(counter.line(row, numbered=not starred and not last_empty))
    return "\\\\".join(out)


def _number_formula(tex: str, counter: _Counter) -> str:
    """One formula with its numbered environments made explicit, the rest as one tagged/labelled line."""
    out, rest, i = [], [], 0
    while m := _BEGIN.search(tex, i):
        name, starred = m.group(1), bool(m.group(2))
        if name not in _NUMBERED or (m.start() > 0 and tex[m.start() - 1] == "\\"):
            rest.append(tex[i : m.end()])
            i = m.end()
            continue
        end_at, end = _env_end(tex, name + ("*" if starred else ""), m.end())
        if end_at < 0:
            break
        body = _environment(tex[m.end() : end_at], name, starred, counter)
        target = _NUMBERED[name][0]
        rest.append(tex[i : m.start()])
        out.append((len("".join(rest)), f"\\begin{{{target}}}{body}\\end{{{target}}}"))
        rest.append("\0")  # where the environment goes back
        i = end
    rest.append(tex[i:])
    outside = counter.line("".join(rest), numbered=False, in_environment=False)  # KaTeX shows these itself
    pieces = iter(env for _, env in out)
    return re.sub("\0", lambda _m: next(pieces), outside)


def strip_sentinels(tex: str) -> str:
    """``tex`` without the placeholder sentinels, so that input can never forge a reference."""
    return tex.translate(_SENTINELS) if OPEN in tex or CLOSE in tex else tex


def _resolve(tex: str, labels: dict[str, tuple[str, str]]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``tex`` with ``\\eqref{k}``/``\\ref{k}`` replaced by placeholders (or ``(??)``); (shown, anchor) per placeholder."""
    if "ref" not in tex:
        return tex, ()
    out: list[str] = []
    refs: list[tuple[str, str]] = []
    at = 0
    for start, end, name in _tokens(tex):
        if start < at or name not in ("eqref", "ref"):
            continue
        arg_end = argument_end(tex, end)
        if arg_end < 0:
            continue
        key = tex[skip_space(tex, end) : arg_end].strip()
        key = key[1:-1].strip() if key.startswith("{") and group_end(key, 0) == len(key) else key
        text, anchor = labels.get(key, ("??", ""))
        shown = f"({text})" if name == "eqref" else text
        out.append(tex[at:start])
        if anchor:
            out.append(f"\\text{{{OPEN}{len(refs)}{CLOSE}}}")
            refs.append((shown, anchor))
        else:
            out.append(f"\\text{{{shown}}}")
        at = arg_end
    out.append(tex[at:])
    return "".join(out), tuple(refs)


def number_equations(texs: Sequence[str], article_id: str) -> Numbered:
    """Number the formulas ``texs`` of one article (in order); anchors are ``eq-<article_id>-<n>``."""
    counter = _Counter(f"eq-{re.sub(r'[^A-Za-z0-9]', '', article_id)}-")
    numbered, anchors, shown = [], [], []
    for tex in texs:
        before, shown_before = len(counter.anchors), len(counter.shown)
        numbered.append(_number_formula(clean(strip_sentinels(tex)), counter))  # clean: no NUL, which marks env slots
        anchors.append(tuple(counter.anchors[before:]))
        shown.append(tuple(counter.shown[shown_before:]))
    resolved = [_resolve(tex, counter.labels) for tex in numbered]
    texs_out = tuple(tex for tex, _ in resolved)
    return Numbered(texs_out, tuple(anchors), tuple(shown), counter.labels, tuple(refs for _, refs in resolved))
