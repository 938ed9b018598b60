"""A parsed query evaluated over the index's postings: exact document sets, BM25F, ranking.

Imports nothing from Whoosh: ``index`` hands over an open :class:`Postings`
(``index.reading.Snapshot``): document counts, a term's whole posting list
and document frequency, the documents' folded texts, columns.

A single term (a word, a symbol, a CJK bigram or character) is answered by
its posting list alone. Anything longer -- ``扩散模型``, ``\\frac``, ``生成 函数``
-- is a candidate search then a check, as trigram indexes do (pg_trgm's
recheck): the documents having its rarest term are the candidates, and each
one's folded text, kept in a column by the index, is searched for the query
itself (``bytes.count``, or a regex where whole-word edges matter). The index
keeps no positions, which makes it half the work to write; and the text check
is the very definition the tests hold search to.

Why not Whoosh's own queries and collectors, or even its matchers: they make
several Python calls per posting.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from operator import add, methodcaller, mul, not_, sub, truediv
from typing import Protocol

from .analysis import CJK_RANGES, is_exact, is_word_char, segments
from .query import And, Atom, Node, Not, Or, occurrences, positive_atoms

K1, B = 1.2, 0.75
#: Added to the sort key of a match not in a title: above any score in units of 1e-9.
_TITLE_FIRST = 1 << 62


class PostingList(Protocol):
    """A term's postings in document order (``index.reading.PostingList``)."""

    @property
    def ids(self) -> list[int]: ...
    @property
    def weights(self) -> list[float]: ...


class Texts(Protocol):
    """A column of texts (``index.reading.TextColumn``): one decoded, or many in UTF-8."""

    def __getitem__(self, doc: int) -> str: ...
    def utf8(self, docs: list[int]) -> Iterable[bytes]: ...


class Postings(Protocol):
    """What a query is evaluated on (``index.reading.Snapshot``)."""

    def doc_count(self) -> int: ...
    def all_doc_ids(self) -> Iterable[int]: ...
    def posting_list(self, field: str, term: str) -> PostingList:
        """A term's whole posting list, deleted documents left out."""
    def document_frequency(self, field: str, term: str) -> int:
        """How many documents have the term (at least)."""
    def texts(self, field: str) -> Texts:
        """The documents' folded ``field``."""
    def numbers(self, name: str) -> Sequence[int]:
        """A numeric column: every document's value."""
    def strings(self, name: str) -> Texts:
        """A text column (the id): every document's value, by document number."""


def plain(needle: str) -> bytes | None:
    """``needle`` in UTF-8 when counting its bytes counts its occurrences: no word edge to check (it
    neither starts nor ends with a letter or digit) and no two occurrences can overlap."""
    if is_word_char(needle[0]) or is_word_char(needle[-1]) or _self_overlapping(needle):
        return None
    return needle.encode()


def _self_overlapping(needle: str) -> bool:
    return any(needle[:k] == needle[-k:] for k in range(1, len(needle)))  # 哈哈 is twice in 哈哈哈


def byte_counter(needle: str) -> Callable[[list[bytes]], list[int]]:
    """How many times ``needle`` occurs in each of some folded texts given in UTF-8, as
    ``query.occurrences`` counts them: ``bytes.count`` when that is exact (:func:`plain`),
    else each text decoded and counted by :func:`occurrence_counter`.

    (Checking word edges in UTF-8 does not pay: in Chinese text a Latin word nearly always
    touches a CJK character, whose bytes alone cannot say it is not a letter.)
    """
    encoded = plain(needle)
    if encoded is not None:
        return lambda spans: list(map(methodcaller("count", encoded), spans))
    exact = occurrence_counter(needle)
    return lambda spans: list(map(exact, map(methodcaller("decode"), spans)))


def occurrence_counter(needle: str) -> Callable[[str], int]:
    """How many times ``needle`` occurs in a folded text, as ``query.occurrences`` counts them."""
    if _self_overlapping(needle):  # rare: counted in Python
        return lambda text: sum(1 for _ in occurrences(needle, text))
    # The needle first (the regex engine then scans for it as a literal), its word edges checked after it
    start, end = is_word_char(needle[0]), is_word_char(needle[-1])
    word, literal = rf"[^\W_{CJK_RANGES}]", re.escape(needle)
    pattern = re.compile(f"{literal}{f'(?<!{word}{literal})' if start else ''}{f'(?!{word})' if end else ''}")
    return lambda text: len(pattern.findall(text))


class Evaluator:
    """One query against one index."""

    def __init__(
        self, index: Postings, default_fields: Sequence[str], boosts: Mapping[str, float],
        averages: dict[str, float] | None = None,
    ) -> None:
        """``averages``: mean field lengths, kept by the caller for as long as ``index`` is unchanged."""
        self.r, self.default_fields, self.boosts = index, tuple(default_fields), boosts
        self._matches: dict[tuple[str, str], dict[int, float]] = {}
        self._all: set[int] | None = None
        self._averages = {} if averages is None else averages

    def run(self, node: Node, *, limit: int, sort: str, within: set[int] | None) -> tuple[int, list[tuple[int, float]]]:
        """(number of matches, the best ``limit`` as (docnum, score)), matches restricted to ``within``."""
        docs = self.docs(node)
        if within is not None:
            docs &= within
        positives = list(dict.fromkeys(positive_atoms(node)))
        scores, in_title = self.scores(positives, docs)
        order = list(docs)
        if sort == "relevance":  # title matches first, then by score in units of 1e-9 (ties go by id, not float noise)
            later = map(mul, map(not_, map(in_title.__contains__, order)), repeat(_TITLE_FIRST))
            units = map(int, map(mul, map(scores.get, order, repeat(0.0)), repeat(1e9)))
            keys = dict(zip(order, map(sub, later, units), strict=True))
        else:
            column = self.r.numbers("date_rank" if sort == "date" else "readers_rank")
            keys = dict(zip(order, map(column.__getitem__, order), strict=True))
        return len(docs), [(d, scores.get(d, 0.0)) for d in self.best(keys, limit)]

    def best(self, keys: dict[int, int], limit: int) -> list[int]:
        """The ``limit`` smallest keys, ties broken by id (looked up only for the documents that tie)."""
        ids = self.r.strings("id")
        top = heapq.nsmallest(limit, keys, key=keys.__getitem__)
        if len(top) < limit:
            return sorted(top, key=lambda d: (keys[d], ids[d]))
        cut = keys[top[-1]]
        sure = sorted((d for d in top if keys[d] < cut), key=lambda d: (keys[d], ids[d]))
        tied = sorted((d for d, k in keys.items() if k == cut), key=lambda d: ids[d])
        return sure + tied[: limit - len(sure)]

    # exact sets

    def all_docs(self) -> set[int]:
        if self._all is None:
            self._all = set(self.r.all_doc_ids())
        return self._all

    def docs(self, node: Node) -> set[int]:
        if isinstance(node, Atom):
            return set().union(*(self.matches(node, f) for f in node.fields or self.default_fields))
        if isinstance(node, Or):
            return set().union(*(self.docs(c) for c in node.children))
        if isinstance(node, Not):
            return self.all_docs() - self.docs(node.child)
        assert isinstance(node, And)
        positive = [c for c in node.children if not isinstance(c, Not)]
        result = self.docs(positive[0]) if positive else set(self.all_docs())
        for child in positive[1:]:
            result &= self.docs(child)
        for negated in node.children:
            if isinstance(negated, Not):
                result -= self.docs(negated.child)
        return result

    def matches(self, atom: Atom, field: str) -> dict[int, float]:
        """Documents where ``atom`` occurs in ``field``, with its (boosted) number of occurrences."""
        key = (atom.text, field)
        if key not in self._matches:
            terms = [term for part in segments(atom.text) for term in part]
            if len(terms) == 1 and is_exact(atom.text):  # one index term: its postings are the answer
                found = self.r.posting_list(field, terms[0])
                self._matches[key] = dict(zip(found.ids, found.weights, strict=True))  # occurrences x field boost
            else:
                self._matches[key] = self._checked(field, atom.text, terms)
        return self._matches[key]

    def _checked(self, field: str, needle: str, terms: list[str]) -> dict[int, float]:
        """Documents whose folded ``field`` holds ``needle``: the documents of the rarest of its
        ``terms`` (every occurrence has them all) are the candidates, each one's text searched."""
        frequency = {term: self.r.document_frequency(field, term) for term in terms}
        if not all(frequency.values()):
            return {}
        rarest = min(frequency, key=lambda t: (frequency[t], t))
        # Not intersected with the other terms' lists: a phrase's terms nearly always come
        # together (扩散 and 散模), so reading those lists costs more than the checks they save
        candidates = self.r.posting_list(field, rarest).ids
        counts = byte_counter(needle)(list(self.r.texts(field).utf8(candidates)))
        boost = self.boosts.get(field, 1.0)
        return {d: n * boost for d, n in zip(candidates, counts, strict=True) if n}

    # scores

    def average_length(self, field: str) -> float:
        """Mean characters of ``field``: Whoosh keeps token totals, our lengths are characters."""
        key = f"{field}_len"
        if key not in self._averages:  # (the index keeps these: see index._averages)
            live = list(self.all_docs())
            self._averages[key] = sum(map(self.r.numbers(key).__getitem__, live)) / max(1, len(live))
        return self._averages[key]

    def scores(self, positives: Sequence[Atom], docs: set[int]) -> tuple[dict[int, float], set[int]]:
        """BM25F of each document in ``docs`` over the positive terms, and those matching in a title.

        Per (term, field): ``idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))``
        over the matching documents, as ``map`` chains (C loops, not a Python step per
        document); the parts are then summed per document, always in the same order.
        """
        n = max(1, self.r.doc_count())
        parts: list[dict[int, float]] = []
        in_title: set[int] = set()
        for atom in positives:
            for field in atom.fields or self.default_fields:
                found = self.matches(atom, field)
                if not found:
                    continue
                hit = list(docs.intersection(found))
                if field == "title":
                    in_title.update(hit)
                idf = math.log(1 + (n - len(found) + 0.5) / (len(found) + 0.5))
                lengths = self.r.numbers(f"{field}_len")
                average = max(1.0, self.average_length(field))
                tfs = list(map(found.__getitem__, hit))
                norms = map(add, repeat(K1 * (1 - B)), map(mul, repeat(K1 * B / average), map(lengths.__getitem__, hit)))
                bm25 = map(truediv, map(mul, repeat(idf * (K1 + 1)), tfs), map(add, tfs, norms))
                parts.append(dict(zip(hit, bm25, strict=True)))
        if len(parts) <= 1:
            return (parts[0] if parts else {}), in_title
        every = list(set().union(*parts))
        total: Iterable[float] = map(parts[0].get, every, repeat(0.0))
        for part in parts[1:]:
            total = map(add, total, map(part.get, every, repeat(0.0)))
        return dict(zip(every, total, strict=True)), in_title
