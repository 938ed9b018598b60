"""Folding and the CJK bigram analyzer: what "the same text" means to search.

``fold`` is applied to documents and queries alike, one character at a time:
NFKC (full-width ``ＬｏＲＡ`` -> ``LoRA``), case folding, traditional ->
simplified (``擴散`` -> ``扩散``), white space -> one space, invisible format
characters (zero-width space, soft hyphen) dropped.

Why character by character, with OpenCC's *character* table (TSCharacters)
rather than its phrase-level ``t2s`` converter: a phrase conversion may turn
n characters into m, and decides by context, so a folded substring would no
longer sit at a predictable place in the folded document (highlights need
offsets), and the query ``乾`` could fold differently alone than inside
``乾燥``. A per-character map is context free, so ``fold(q) in fold(doc)``
holds whenever ``q`` is a substring of ``doc`` -- the property the search is
tested against -- and the same table can be shipped to the site's in-page
search (issue #4) as a plain lookup object. The price: a few characters with
several simplified forms always take OpenCC's first one (``乾隆`` folds to
``干隆``); that only matters for display, and folded text is never displayed.
NFKC or case folding can still expand one character (``ﬁ`` -> ``fi``), so
:meth:`Folder.fold_map` keeps an offset map back to the original text.

The analyzer (``BigramAnalyzer``) indexes a CJK run as overlapping character
bigrams *and* every character as a unigram, Latin/digit runs as single words,
and every other non-space character (punctuation, TeX symbols) as itself;
the index keeps how often each term occurs, not where (:func:`term_counts`).
A query that is one such term (``熵``, ``模型``, ``lora``) is answered by its
postings alone; a longer one (``扩散模型``, ``\\frac``, ``GPT-4``, ``生成 函数``)
by the documents having the rarest of its terms (:func:`query_terms` of each
part), whose folded text is then searched for it (``matching``). It is a duck-typed Whoosh
analyzer (Whoosh pickles it into the schema; this module path must stay put)
that does not import Whoosh: the site export and the tests use it without.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from functools import cache
from itertools import chain, repeat
from operator import add, itemgetter
from typing import Any

#: CJK ideographs (with extensions and compatibility forms), kana, hangul, bopomofo.
_CJK_BLOCKS = (
    (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3040, 0x30FF), (0x3100, 0x312F),
    (0x3190, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF),
)
_CJK_STARTS = [lo for lo, _ in _CJK_BLOCKS]
CJK_RANGES = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_BLOCKS)
#: One token per match: a CJK run, a Latin/digit word (alphanumeric, not CJK), or any
#: other single non-space character. Indexing uses this regex; queries, a few characters
#: long, use :func:`query_tokens` (the same classes, without compiling the pattern: a cold
#: search saves ~8 ms); tests/test_analysis.py checks the two agree.
TOKEN = rf"(?P<cjk>[{CJK_RANGES}]+)|(?P<word>[^\W_{CJK_RANGES}]+)|(?P<sym>\S)"
#: TOKEN's parts for :func:`term_counts`: CJK runs, and the other tokens (words, then any other non-space).
CJK_RUN = rf"[{CJK_RANGES}]+"
NON_CJK_TOKEN = rf"[^\W_{CJK_RANGES}]+|[^\s{CJK_RANGES}]"


def is_cjk(c: str) -> bool:
    code = ord(c)
    at = bisect_right(_CJK_STARTS, code) - 1
    return at >= 0 and code <= _CJK_BLOCKS[at][1]


def _kind(c: str) -> str:
    return "cjk" if is_cjk(c) else "word" if c.isalnum() else "space" if c.isspace() else "sym"


def query_tokens(folded: str) -> list[tuple[str, str]]:
    """(kind, text) of each token, kind "cjk", "word" or "sym": what TOKEN finds, for short strings."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(folded)
    while i < n:
        kind, j = _kind(folded[i]), i + 1
        if kind in ("cjk", "word"):
            while j < n and _kind(folded[j]) == kind:
                j += 1
        if kind != "space":
            tokens.append((kind, folded[i:j]))
        i = j
    return tokens


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
#: Unicode blocks searched for traditional characters when deriving the table.
_T2S_CANDIDATES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2EBEF), (0x30000, 0x323AF))


def is_word_char(c: str) -> bool:
    """True for a character of a Latin/digit word: such words match whole, never in part."""
    return c.isalnum() and not is_cjk(c)  # what TOKEN's [^\W_] minus CJK means


# -- traditional -> simplified ---------------------------------------------------

@cache
def opencc_version() -> str:
    """The version of OpenCC whose table folds traditional characters: indexes and the
    site's folding table are rebuilt when it changes. Only builds ask (searches check the
    index's schema version alone): the package's own ``__version__`` (importing it takes
    ~3 ms; ``importlib.metadata`` ~20), else its metadata."""
    try:
        import opencc

        return str(opencc.__version__)
    except (ImportError, AttributeError):
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("opencc")
        except PackageNotFoundError:
            return "unknown"


@cache
def t2s_table() -> dict[str, str]:
    """OpenCC's traditional -> simplified *character* table, one char to one char.

    Derived once per process (about 60 ms, build side only) by running an
    OpenCC converter configured with TSCharacters alone over every CJK
    ideograph: the Python package ships its dictionaries as compiled ``.ocd2``
    tries, so converting is the supported way to read them. Chains are
    resolved so that folding twice changes nothing.
    """
    import json  # lazy, like opencc: the search path never derives the table (the index carries it)
    import os
    import tempfile

    import opencc

    share = os.path.join(os.path.dirname(opencc.__file__), "clib", "share", "opencc")
    chars_dict = {"type": "ocd2", "file": os.path.join(share, "TSCharacters.ocd2")}
    config = {"name": "t2s characters", "segmentation": {"type": "mmseg", "dict": chars_dict},
              "conversion_chain": [{"dict": chars_dict}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t2s_characters.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(config, f)
        converter = opencc.OpenCC(path)
        chars = [chr(c) for lo, hi in _T2S_CANDIDATES for c in range(lo, hi + 1)]
        converted = converter.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):
        raise RuntimeError("OpenCC changed the number of lines while converting single characters")
    table = {t: s for t, s in zip(chars, converted, strict=True) if t != s and len(s) == 1}
    return {t: _resolve(table, s) for t, s in sorted(table.items())}


def _resolve(table: dict[str, str], s: str) -> str:
    seen = {s}
    while s in table and table[s] not in seen:
        s = table[s]
        seen.add(s)
    return s


# -- folding -----------------------------------------------------------------------

class _CharFolds(dict[int, str]):
    """``str.translate`` table that computes each character's fold on first sight."""

    def __init__(self, t2s: dict[str, str]) -> None:
        super().__init__()
        self.t2s = t2s
        self.uneven: set[int] = set()  # characters whose fold is not exactly one character

    def __missing__(self, code: int) -> str:
        c = chr(code)
        if 0x4E00 <= code <= 0x9FFF:  # unified ideographs: no NFKC mapping, no case; only t2s
            self[code] = folded = self.t2s.get(c, c)
            return folded
        folded = fold_char(c, self.t2s)
        self[code] = folded
        if len(folded) != 1:
            self.uneven.add(code)
        return folded


def fold_char(c: str, t2s: dict[str, str]) -> str:
    """The fold of one character: usually one character, sometimes more or none."""
    out = c
    for _ in range(4):  # NFKC and casefold can feed each other; stop at the fixpoint
        step = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", out).casefold())
        step = "".join(t2s.get(ch, ch) for ch in step)
        if step == out:
            break
        out = step
    return "".join(_space_or_drop(ch) for ch in out)


def _space_or_drop(ch: str) -> str:
    if ch.isspace():
        return " "
    category = unicodedata.category(ch)
    if category == "Cf":  # zero-width space/joiners, soft hyphen, BOM: invisible, so ignored
        return ""
    return " " if category == "Cc" else ch


class Folder:
    """Folds text with one fixed t2s table, so index and queries agree."""

    def __init__(self, t2s: dict[str, str]) -> None:
        self.t2s = t2s
        self._folds = _CharFolds(t2s)

    def fold(self, text: str) -> str:
        return text.translate(self._folds)

    def fold_map(self, text: str) -> tuple[str, list[int]]:
        """The folded text and, for each folded character, the index of the original one."""
        folded = text.translate(self._folds)
        if self._folds.uneven.isdisjoint(map(ord, text)):
            return folded, list(range(len(text)))
        origin: list[int] = []
        for i, c in enumerate(text):
            origin.extend([i] * len(self._folds[ord(c)]))
        return folded, origin

    # Pickled into the Whoosh schema: keep the table, not the per-character cache.
    def __getstate__(self) -> dict[str, Any]:
        return {"t2s": self.t2s}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["t2s"])  # type: ignore[misc]  # re-run __init__ to rebuild the cache

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Folder) and type(other) is type(self) and other.t2s == self.t2s

    def __hash__(self) -> int:
        return hash(len(self.t2s))


@cache
def default_folder() -> Folder:
    return Folder(t2s_table())


def fold(text: str) -> str:
    """Fold ``text`` for matching: NFKC, case, traditional -> simplified (see module doc)."""
    return default_folder().fold(text)


# -- tokens -------------------------------------------------------------------------

class Token:
    """The attributes Whoosh reads from a token (reused, as Whoosh's own analyzers do)."""

    __slots__ = ("boost", "pos", "stopped", "text")

    def __init__(self) -> None:
        self.text = ""
        self.pos = 0
        self.boost = 1.0
        self.stopped = False


def term_counts(folded: str) -> dict[str, int]:
    """Each index term of folded text with how often it occurs: CJK bigrams and unigrams, words, symbols.

    The index keeps counts, not positions: a query of several terms is
    answered by the documents having all its terms, checked against their
    folded text (see ``matching``). This is the whole cost of analysing a
    document for the index, hence C loops only: two ``findall`` and
    ``Counter`` over the tokens, the characters of the CJK runs and their
    bigrams.
    """
    runs = _compiled(CJK_RUN).findall(folded)
    found = Counter(_compiled(NON_CJK_TOKEN).findall(folded))
    found.update("".join(runs))
    found.update(chain.from_iterable(map(map, repeat(add), runs, map(itemgetter(slice(1, None)), runs))))
    return found


def query_terms(folded: str) -> list[str]:
    """The index terms every occurrence of ``folded`` (no white space) has: a CJK run's
    bigrams (a one-character run, its unigram), each word, each symbol."""
    terms: list[str] = []
    for kind, run in query_tokens(folded):
        if kind == "cjk" and len(run) > 1:
            terms.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            terms.append(run)
    return terms


def segments(folded: str) -> list[list[str]]:
    """:func:`query_terms` of each white-space-separated part: every occurrence has them all."""
    return [query_terms(part) for part in folded.split()]


def is_exact(folded: str) -> bool:
    """True when ``folded`` is one run of index terms: no white space inside or around it."""
    return len(folded.split()) == 1 and folded == folded.strip()


class BigramAnalyzer(Folder):
    """Whoosh analyzer: fold, then :func:`term_counts`. Whoosh calls it with keyword options."""

    def __call__(self, value: str, start_pos: int = 0, **options: Any) -> Iterator[Token]:
        """Each term, as often as it occurs (in term order: the index keeps no positions)."""
        token = Token()
        pos = start_pos
        for text, times in sorted(term_counts(self.fold(value)).items()):
            token.text = text
            for _ in range(times):
                token.pos = pos
                pos += 1
                yield token

    def term_counts(self, value: str) -> dict[str, int]:
        """:func:`term_counts` of the folded ``value``: what the index's format asks for."""
        return term_counts(self.fold(value))

    def has_morph(self) -> bool:
        return False

    def clean(self) -> None:
        """Whoosh calls this before pickling the schema; the cache is dropped by ``__getstate__``."""
