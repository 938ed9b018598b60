"""The search query language, parsed into a tiny tree, and its exact meaning.

    扩散模型 外推          both (AND is the default; ``AND`` may be written)
    LoRA OR 低秩           either
    -熵   NOT 熵           without
    "生成 函数"            the exact string, spaces and punctuation included
    title:外推  title:(a OR b)  math:"\\frac"     only in that field
    (a OR b) c             grouping

Every term means *substring of the folded field text* (see ``analysis``),
with one rule for Latin/digit words: they match whole words (``lora`` does
not match inside ``explorable``), so an edge of a term that is a letter or
digit must meet a non-letter/digit edge in the text. Operators are the
upper-case words ``AND OR NOT``, a leading ``-``, a leading ``(`` and a
trailing ``)``; anywhere else these characters are ordinary text (``GPT-4``,
``最小熵原理(二)``). The query is NFKC-normalised before it is read, so
full-width ``（``, ``－``, ``：`` and ``＂`` work as their ASCII forms.

Parsing does not need the index; :func:`occurs` is the exact test the index
narrows down to (and what the tests compare against).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import NamedTuple

from .analysis import is_word_char
from .errors import UserError

#: Fields a query may name with ``field:``; the default search covers DEFAULT_FIELDS.
FIELDS = ("title", "excerpt", "math", "author")
DEFAULT_FIELDS = ("title", "excerpt", "math")
_HINT = 'words are ANDed; use OR, -word or NOT word, "exact phrase", title:word, (grouping)'
_FIELD = re.compile(rf"({'|'.join(FIELDS)}):(?=\S)")
_OPERATORS = {"AND", "OR", "NOT"}


# NamedTuples, not dataclasses: importing dataclasses costs ~15 ms of the search's cold start.
class Atom(NamedTuple):
    """One term: ``text`` is folded; ``fields`` None means the default fields."""

    text: str
    fields: tuple[str, ...] | None = None


class Not(NamedTuple):
    child: Node


class And(NamedTuple):
    children: tuple[Node, ...]


class Or(NamedTuple):
    children: tuple[Node, ...]


Node = Atom | Not | And | Or


class QueryError(UserError):
    """A query the parser cannot read: one line naming the problem, plus the syntax hint."""

    def __init__(self, message: str) -> None:
        super().__init__(f"bad query: {message}", _HINT)


# -- lexing ----------------------------------------------------------------------

class _Tok(NamedTuple):
    kind: str  # "(" ")" "AND" "OR" "NOT" "field" "word" "phrase"
    text: str = ""


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    depth, i, n = 0, 0, len(query)
    chunk_start = True
    while i < n:
        c = query[i]
        if c.isspace():
            i, chunk_start = i + 1, True
        elif c == '"':
            close = query.find('"', i + 1)
            if close < 0:
                raise QueryError(f"unclosed quote in {query[i:]!r}")
            toks.append(_Tok("phrase", query[i + 1:close]))
            i, chunk_start = close + 1, False
        elif chunk_start and c == "(":
            toks.append(_Tok("("))
            depth, i = depth + 1, i + 1
        elif chunk_start and c == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != "-":
            toks.append(_Tok("NOT"))
            i += 1
        elif chunk_start and (m := _FIELD.match(query, i)):
            toks.append(_Tok("field", m.group(1)))
            i = m.end()
        else:
            end = i
            while end < n and not query[end].isspace() and query[end] != '"':
                end += 1
            word, closing = query[i:end], 0
            while word.endswith(")") and depth > closing and (end == n or query[end] != '"'):
                word, closing = word[:-1], closing + 1
            if word in _OPERATORS and chunk_start and closing == 0 and (end == n or query[end].isspace()):
                toks.append(_Tok(word))
            elif word:
                toks.append(_Tok("word", word))
            toks.extend(_Tok(")") for _ in range(closing))
            depth -= closing
            i, chunk_start = end, False
    return toks


# -- parsing ---------------------------------------------------------------------

class _Parser:
    def __init__(self, toks: list[_Tok], fold: Callable[[str], str]) -> None:
        self.toks, self.at, self.fold = toks, 0, fold

    def peek(self) -> str:
        return self.toks[self.at].kind if self.at < len(self.toks) else "end"

    def take(self) -> _Tok:
        tok = self.toks[self.at]
        self.at += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            raise QueryError("the query is empty")
        node = self.or_expr(None)
        if self.peek() != "end":  # only a ")" can stop or_expr early, and the lexer balances those
            raise QueryError(f"unexpected {self.peek()!r}")
        return node

    def or_expr(self, fields: tuple[str, ...] | None) -> Node:
        children = [self.and_expr(fields)]
        while self.peek() == "OR":
            self.take()
            if self.peek() in ("end", ")", "OR"):
                raise QueryError("OR needs a term on each side")
            children.append(self.and_expr(fields))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, fields: tuple[str, ...] | None) -> Node:
        children: list[Node] = []
        while self.peek() not in ("end", ")", "OR"):
            if self.peek() == "AND":
                self.take()
                if not children or self.peek() in ("end", ")", "OR", "AND"):
                    raise QueryError("AND needs a term on each side")
                continue
            children.append(self.unary(fields))
        if not children:
            raise QueryError("OR needs a term on each side" if self.peek() == "OR" else "empty parentheses")
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self, fields: tuple[str, ...] | None) -> Node:
        if self.peek() == "NOT":
            self.take()
            if self.peek() in ("end", ")", "OR", "AND"):
                raise QueryError("NOT (or a leading -) needs a term after it")
            return Not(self.unary(fields))
        return self.primary(fields)

    def primary(self, fields: tuple[str, ...] | None) -> Node:
        tok = self.take()
        if tok.kind == "field":
            if self.peek() not in ("word", "phrase", "("):
                raise QueryError(f"{tok.text}: needs a word, a \"phrase\" or (terms) after it")
            return self.primary((tok.text,))
        if tok.kind == "(":
            node = self.or_expr(fields)
            if self.peek() != ")":
                raise QueryError("unclosed parenthesis")
            self.take()
            return node
        if tok.kind in ("word", "phrase"):
            text = self.fold(tok.text).strip()
            if not text:
                raise QueryError(f"nothing to search for in {tok.text!r}")
            return Atom(text, fields)
        raise QueryError(f"unexpected {tok.kind!r}")


def parse(query: str, fold: Callable[[str], str]) -> Node:
    """The query tree of ``query``, its terms folded with ``fold``; QueryError if malformed."""
    # unicodedata directly, not text.nfkc: text imports hashlib, 10+ ms of a cold search
    node = _Parser(_lex(unicodedata.normalize("NFKC", query)), fold).parse()
    if not any(True for _ in positive_atoms(node)):
        raise QueryError("the query only excludes; add a term to search for (e.g. `模型 -熵`)")
    return node


def positive_atoms(node: Node, negated: bool = False) -> Iterator[Atom]:
    """The atoms a matching document contains (those not under an odd number of NOTs)."""
    if isinstance(node, Atom):
        if not negated:
            yield node
    elif isinstance(node, Not):
        yield from positive_atoms(node.child, not negated)
    else:
        for child in node.children:
            yield from positive_atoms(child, negated)


def atoms(node: Node) -> Iterator[Atom]:
    if isinstance(node, Atom):
        yield node
    elif isinstance(node, Not):
        yield from atoms(node.child)
    else:
        for child in node.children:
            yield from atoms(child)


# -- exact meaning -----------------------------------------------------------------

def occurrences(needle: str, folded: str) -> Iterator[int]:
    """Start offsets of ``needle`` in ``folded`` that respect whole-word edges."""
    check_start, check_end = is_word_char(needle[0]), is_word_char(needle[-1])
    at = folded.find(needle)
    while at >= 0:
        end = at + len(needle)
        if not (check_start and at > 0 and is_word_char(folded[at - 1])) and not (
            check_end and end < len(folded) and is_word_char(folded[end])
        ):
            yield at
        at = folded.find(needle, at + 1)


def occurs(needle: str, folded: str) -> bool:
    return next(occurrences(needle, folded), None) is not None
