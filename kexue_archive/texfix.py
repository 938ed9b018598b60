"""Turn the blog's MathJax-flavoured TeX into TeX that KaTeX accepts, one formula at a time.

The blog was typeset by MathJax, which forgives things KaTeX rejects (and which
saw the TeX after the browser had decoded HTML entities: ``decode_entities``). Each fix
here is a small TeX-aware rewrite (it reads command tokens and brace groups, never
regexes across braces), so it cannot break a formula that already worked:

- control characters (NUL …) become U+FFFD: KaTeX rejects them and HTML forbids them;
- MathJax-only commands are dropped or unwrapped: ``\\require{…}``, ``\\style{…}{x}``,
  ``\\class{…}{x}``, ``\\cssId{…}{x}``, ``\\bbox[…]{x}``;
- macro definitions (``\\newcommand{msign}{…}`` – often without the backslash –,
  ``\\renewcommand``, ``\\providecommand``, ``\\DeclareMathOperator``, ``\\def``) are cut out
  and returned, so the article can share them with its later formulas;
- a command with arguments used as an unbraced script, ``_\\boldsymbol{B}``, is braced:
  ``_{\\boldsymbol{B}}`` (KaTeX: "Got function with no arguments as subscript").
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|apos|nbsp|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAME = re.compile(r"\\(?:[A-Za-z]+|[^A-Za-z])\Z")

def _table(names: str, required: int, optional: bool = False) -> dict[str, tuple[int, bool]]:
    return {name: (required, optional) for name in names.split()}


#: Commands whose arguments must travel with them when used as ``_\cmd…``/``^\cmd…``:
#: name -> (required arguments, takes an optional ``[…]`` first).
ARITY: dict[str, tuple[int, bool]] = {
    **_table(
        "mathbf mathbb mathcal mathscr mathfrak mathrm mathit mathsf mathtt mathnormal boldsymbol bm pmb "
        "text textbf textit textrm textsf texttt textnormal textup emph mbox operatorname operatorname* mathds "
        "hat widehat tilde widetilde bar overline underline vec overrightarrow overleftarrow "
        "overleftrightarrow underrightarrow underleftarrow underleftrightarrow dot ddot dddot breve check "
        "acute grave mathring widecheck utilde boxed cancel bcancel xcancel sout phantom hphantom vphantom "
        "mathop mathbin mathrel mathord mathopen mathclose mathpunct mathinner overbrace underbrace",
        1,
    ),
    **_table("frac dfrac tfrac cfrac binom dbinom tbinom overset underset stackrel textcolor", 2),
    **_table("sqrt xrightarrow xleftarrow xleftrightarrow xmapsto xRightarrow xLeftarrow", 1, optional=True),
}

#: MathJax-only commands: name -> (arguments to drop, arguments to keep after them).
_MATHJAX_ONLY = {"require": (1, 0), "style": (1, 1), "class": (1, 1), "cssId": (1, 1), "bbox": (0, 1), "unicode": (1, 0)}
_DEFINERS = frozenset({"newcommand", "renewcommand", "providecommand", "DeclareMathOperator", "def", "gdef"})


@dataclass(frozen=True)
class MacroDef:
    """One macro definition cut out of a formula.

    name:  the control sequence, always with its backslash (``\\msign``).
    nargs: how many arguments it takes (None for ``\\def`` with delimited parameters).
    tex:   a definition KaTeX runs as-is: ``\\def\\msign#1{…}`` (``\\def`` never refuses to
           redefine, unlike ``\\newcommand``, and MathJax silently redefines too).
    """

    name: str
    nargs: int | None
    tex: str


def clean(tex: str) -> str:
    """``tex`` with control characters (NUL, ESC …) replaced by U+FFFD."""
    return _CONTROL.sub("\ufffd", tex)


def decode_entities(tex: str) -> str:
    """``a &lt; b`` -> ``a < b``: entities a crawl left in the TeX, which MathJax saw decoded in the page."""
    return _ENTITY.sub(lambda m: html.unescape(m.group()), tex) if "&" in tex else tex


_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)?", re.DOTALL)
_SCRIPTED_COMMAND = re.compile(r"[_^]\s*\\")
_MATHJAX_NAMES = re.compile(r"\\(?:require|style|class|cssId|bbox|unicode)(?![A-Za-z])")
_DEFINER_NAMES = re.compile(r"\\(?:newcommand|renewcommand|providecommand|DeclareMathOperator|g?def)(?![A-Za-z])")


def command_end(tex: str, i: int) -> int:
    """Offset past the control sequence starting at ``tex[i] == '\\'``."""
    m = _COMMAND.match(tex, i)
    return m.end() if m else i + 1


def group_end(tex: str, i: int, open_: str = "{", close: str = "}") -> int:
    """Offset past the group opened at ``tex[i]``, or -1 when it never closes.

    For ``[…]`` groups, brackets inside braces do not count (``[{]}]`` is one group).
    """
    depth, brace, j, n = 0, 0, i, len(tex)
    while j < n:
        c = tex[j]
        if c == "\\":
            j += 2
            continue
        if open_ != "{" and c in "{}":
            brace += 1 if c == "{" else -1
        elif c == open_ and brace == 0:
            depth += 1
        elif c == close and brace == 0:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def skip_space(tex: str, i: int) -> int:
    while i < len(tex) and tex[i] in " \t\r\n":
        i += 1
    return i


def argument_end(tex: str, i: int) -> int:
    """Offset past the TeX argument at ``i`` (a brace group, a command, or one character); -1 if none."""
    i = skip_space(tex, i)
    if i >= len(tex) or tex[i] in "}&":
        return -1
    if tex[i] == "{":
        return group_end(tex, i)
    if tex[i] == "\\":
        return command_end(tex, i)
    return i + 1


def optional_end(tex: str, i: int) -> int:
    """Offset past an optional ``[…]`` argument at ``i``, or ``i`` itself when there is none."""
    j = skip_space(tex, i)
    if j < len(tex) and tex[j] == "[":
        end = group_end(tex, j, "[", "]")
        return end if end > 0 else i
    return i


def _arguments_end(tex: str, i: int, required: int, optional: bool) -> int:
    """Offset past ``[opt]`` and ``required`` arguments from ``i``; -1 if any is missing."""
    if optional:
        i = optional_end(tex, i)
    for _ in range(required):
        i = argument_end(tex, i)
        if i < 0:
            return -1
    return i


def drop_mathjax_only(tex: str) -> str:
    """``tex`` without MathJax's extension commands (``\\require``, ``\\style`` …), their content kept."""
    if not _MATHJAX_NAMES.search(tex):
        return tex
    out, i, n = [], 0, len(tex)
    while i < n:
        if tex[i] != "\\":
            out.append(tex[i])
            i += 1
            continue
        end = command_end(tex, i)
        rule = _MATHJAX_ONLY.get(tex[i + 1 : end])
        if rule is None:
            out.append(tex[i:end])
            i = end
            continue
        if tex[i + 1 : end] == "unicode":
            char = _unicode(tex, end)
            out.append(char or tex[i:end])
            i = _arguments_end(tex, end, 1, True) if char else end
            continue
        dropped, kept = rule
        j = _arguments_end(tex, end, dropped, optional=tex[i + 1 : end] == "bbox")
        k = _arguments_end(tex, j, kept, False) if j >= 0 else -1
        if k < 0:  # malformed: leave it for KaTeX to report
            out.append(tex[i:end])
            i = end
            continue
        out.append("{" + drop_mathjax_only(_strip_braces(tex[skip_space(tex, j) : k])) + "}" if kept else "")
        i = k
    return "".join(out)


def _unicode(tex: str, end: int) -> str:
    """KaTeX's ``\\char"HEX`` for MathJax's ``\\unicode[font]{x2200}``/``{8704}``; "" when unreadable."""
    arg_end = _arguments_end(tex, end, 1, True)
    if arg_end < 0:
        return ""
    code = _strip_braces(tex[optional_end(tex, end) : arg_end]).strip().lower().removeprefix("#")
    try:
        value = int(code[1:], 16) if code.startswith("x") else int(code)
    except ValueError:
        return ""
    return f'{{\\char"{value:X}}}' if 0x20 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else ""


def _strip_braces(arg: str) -> str:
    """``a`` from ``{a}``; ``{a}{b}`` stays whole."""
    arg = arg.strip()
    return arg[1:-1] if arg.startswith("{") and group_end(arg, 0) == len(arg) else arg


def _macro_name(raw: str) -> str | None:
    """``\\name`` from ``{msign}``, ``{\\msign}`` or ``\\msign``; None when it is no valid name."""
    name = _strip_braces(raw).strip()
    if not name.startswith("\\"):
        name = "\\" + name
    return name if _NAME.match(name) else None


def _parse_newcommand(tex: str, end: int, kind: str) -> tuple[MacroDef, int] | None:
    """The definition of ``\\newcommand``-like ``kind`` whose name starts at ``end``."""
    if kind != "DeclareMathOperator" and tex.startswith("*", end):
        end += 1  # \newcommand*: same thing for math
    star = kind == "DeclareMathOperator" and tex.startswith("*", end)
    name_end = argument_end(tex, end + star)
    if name_end < 0:
        return None
    name = _macro_name(tex[end + star : name_end])
    j, nargs = skip_space(tex, name_end), 0
    if kind != "DeclareMathOperator" and tex.startswith("[", j):
        count_end = group_end(tex, j, "[", "]")
        count = tex[j + 1 : count_end - 1].strip() if count_end > 0 else ""
        if not count.isdigit() or not 0 <= int(count) <= 9 or tex.startswith("[", skip_space(tex, count_end)):
            return None  # a bad count, or an optional default argument: KaTeX has no equivalent
        j, nargs = count_end, int(count)
    body_end = argument_end(tex, j)
    if name is None or body_end < 0:
        return None
    body = _strip_braces(tex[skip_space(tex, j) : body_end])
    if kind == "DeclareMathOperator":
        body = f"\\operatorname{'*' if star else ''}{{{body}}}"
    params = "".join(f"#{k}" for k in range(1, nargs + 1))
    return MacroDef(name, nargs, f"\\def{name}{params}{{{body}}}"), body_end


def _parse_def(tex: str, start: int, end: int) -> tuple[MacroDef, int] | None:
    """The ``\\def\\name<params>{body}`` starting at ``start`` (``end`` is past ``\\def``)."""
    j = skip_space(tex, end)
    if j >= len(tex) or tex[j] != "\\":
        return None
    name_end = command_end(tex, j)
    body_at = tex.find("{", name_end)
    if body_at < 0 or (body_end := group_end(tex, body_at)) < 0:
        return None
    params = tex[name_end:body_at]
    plain = re.fullmatch(r"(?:#[1-9])*", params.replace(" ", ""))
    nargs = len(params.replace(" ", "")) // 2 if plain else None
    return MacroDef(tex[j:name_end], nargs, f"\\def{tex[j:name_end]}{params}{tex[body_at:body_end]}"), body_end


def extract_macros(tex: str) -> tuple[str, list[MacroDef]]:
    """``tex`` with its macro definitions cut out, and those definitions in order.

    A definition that cannot be read (a bad name, an optional default argument) stays
    in place, so KaTeX reports it and the formula falls back visibly.
    """
    if not _DEFINER_NAMES.search(tex):
        return tex, []
    out, defs, i, n = [], [], 0, len(tex)
    while i < n:
        if tex[i] != "\\":
            out.append(tex[i])
            i += 1
            continue
        end = command_end(tex, i)
        kind = tex[i + 1 : end]
        parsed = None
        if kind in _DEFINERS:
            parsed = _parse_def(tex, i, end) if kind in ("def", "gdef") else _parse_newcommand(tex, end, kind)
        if parsed is None:
            out.append(tex[i:end])
            i = end
            continue
        defs.append(parsed[0])
        i = parsed[1]
    return "".join(out), defs


def brace_scripts(tex: str, user_arity: Mapping[str, int | None] | None = None) -> str:
    """Brace every command-with-arguments used as an unbraced script: ``_\\bm{B}`` -> ``_{\\bm{B}}``.

    ``user_arity`` gives the article's own macros (name with backslash -> argument count);
    they are braced too, since a macro may expand to a command that takes arguments.
    """
    if not _SCRIPTED_COMMAND.search(tex):
        return tex
    user_arity = user_arity or {}
    out, i, n = [], 0, len(tex)
    while i < n:
        c = tex[i]
        if c == "\\":
            end = command_end(tex, i)
            out.append(tex[i:end])
            i = end
            continue
        out.append(c)
        i += 1
        if c not in "_^":
            continue
        j = skip_space(tex, i)
        if j >= n or tex[j] != "\\":
            continue
        name_end = command_end(tex, j)
        name = tex[j:name_end]
        if name == "\\operatorname" and tex.startswith("*", name_end):
            name, name_end = name + "*", name_end + 1
        if name in user_arity:
            required, optional = user_arity[name] or 0, False
        elif name[1:] in ARITY:
            required, optional = ARITY[name[1:]]
        else:
            continue
        end = _arguments_end(tex, name_end, required, optional)
        if end < 0:
            continue
        out.append(tex[i:j] + "{" + tex[j:name_end] + brace_scripts(tex[name_end:end], user_arity) + "}")
        i = end
    return "".join(out)
