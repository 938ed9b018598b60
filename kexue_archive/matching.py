"""A parsed query evaluated over the index's postings: exact document sets, BM25F, ranking.

Imports nothing from Whoosh: ``index`` hands over the open reader (stored
fields, document counts) and three functions reading it fast: a term's whole
posting list, a posting's positions, a numeric column.

Why not Whoosh's own Phrase query and collectors, or even its matchers: they
make several Python calls per posting and per position. Here a term's posting
list is read a block at a time, a phrase's documents are the intersection of
its terms' document sets (in C), and positions are looked at only in those
documents; each document's match counts give the score directly (BM25F: per
field, summed over fields and terms).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from operator import sub
from typing import Any, Protocol

from .analysis import Folder, is_cjk, is_exact, query_terms, segments
from .query import And, Atom, Node, Not, Or, occurs, positive_atoms

K1, B = 1.2, 0.75


class PostingList(Protocol):
    """A term's postings in document order (``index.segments.PostingList``)."""

    @property
    def ids(self) -> list[int]: ...
    @property
    def weights(self) -> list[float]: ...
    @property
    def values(self) -> list[bytes]: ...


PostingLists = Callable[[str, str], PostingList]


def covering(terms: Sequence[str]) -> list[int]:
    """Offsets of the phrase terms whose positions decide a match; the others follow from them.

    A CJK bigram at position p also stands for its second character at p + 1
    (the next position of the same run), so ``扩散模型`` (扩散, 散模, 模型) is
    matched exactly by 扩散 at p and 模型 at p + 2: every position the phrase
    spans is then held by the right character or token. Positions are only
    ever consecutive within text without white space, so nothing can stand in
    between. Checking a third fewer positions is most of a common phrase's cost.
    """
    widths = [2 if len(t) == 2 and is_cjk(t[0]) and is_cjk(t[1]) else 1 for t in terms]
    last = max(k + w - 1 for k, w in enumerate(widths))
    chosen, uncovered = [], 0
    while uncovered <= last:
        k = min(uncovered, len(terms) - 1)  # the term starting there, or the bigram ending there
        chosen.append(k)
        uncovered = k + widths[k]
    return chosen


class Evaluator:
    """One query against one reader."""

    def __init__(
        self, reader: Any, folder: Folder, default_fields: Sequence[str], boosts: Mapping[str, float],
        averages: dict[str, float] | None = None, *, lists: PostingLists, positions: Callable[[bytes], list[int]],
        column: Callable[[str], Sequence[Any]],
    ) -> None:
        """``averages``: mean field lengths, kept by the caller for as long as ``reader`` is unchanged;
        ``lists(field, term)``: a term's whole posting list; ``positions(value)``: a posting's
        positions; ``column(name)``: a column, every document's value."""
        self.r, self.folder, self.default_fields, self.boosts = reader, folder, tuple(default_fields), boosts
        self.lists, self.positions, self.column = lists, positions, column
        self._matches: dict[tuple[str, str], dict[int, float]] = {}
        self._folded: dict[tuple[int, str], str] = {}
        self._all: set[int] | None = None
        self._averages = {} if averages is None else averages

    def run(self, node: Node, *, limit: int, sort: str, within: set[int] | None) -> tuple[int, list[tuple[int, float]]]:
        """(number of matches, the best ``limit`` as (docnum, score)), matches restricted to ``within``."""
        docs = self.docs(node)
        if within is not None:
            docs &= within
        positives = list(dict.fromkeys(positive_atoms(node)))
        scores, in_title = self.scores(positives, docs)
        if sort == "relevance":
            keys = {d: (d not in in_title, -round(scores.get(d, 0.0), 9)) for d in docs}
        else:
            column = self.column("date_rank" if sort == "date" else "readers_rank")
            keys = {d: (column[d], 0.0) for d in docs}
        return len(docs), [(d, scores.get(d, 0.0)) for d in self.best(keys, limit)]

    def best(self, keys: dict[int, tuple[Any, float]], limit: int) -> list[int]:
        """The ``limit`` smallest keys, ties broken by id (looked up only for the documents that tie)."""
        ids = self.column("id")
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
            if is_exact(atom.text):
                found = self._terms(field, query_terms(atom.text))
            else:  # white space inside: every part must be there, then the text decides
                parts = [self._terms(field, terms) for terms in segments(atom.text)]
                common = set(parts[0]).intersection(*parts[1:])
                found = {d: min(p[d] for p in parts) for d in common if occurs(atom.text, self.folded(d, field))}
            self._matches[key] = found
        return self._matches[key]

    def _terms(self, field: str, terms: list[str]) -> dict[int, float]:
        return self._term(field, terms[0]) if len(terms) == 1 else self._phrase(field, terms)

    def _term(self, field: str, term: str) -> dict[int, float]:
        found = self.lists(field, term)
        return dict(zip(found.ids, found.weights, strict=True))  # occurrences x field boost

    def _phrase(self, field: str, terms: list[str]) -> dict[int, float]:
        """Documents with ``terms`` at consecutive positions: the documents having every term
        (set intersection, in C), then, in each, the starts that the covering terms' positions allow."""
        checked = covering(terms)
        lists = []
        for term in terms:
            found = self.lists(field, term)
            if not found.ids:
                return {}
            lists.append(found)
        values = {k: dict(zip(lists[k].ids, lists[k].values, strict=True)) for k in checked}  # only these are read
        order = sorted(range(len(terms)), key=lambda k: len(lists[k].ids))
        common = set(lists[order[0]].ids).intersection(*(lists[k].ids for k in order[1:]))
        boost, positions, found_at = self.boosts.get(field, 1.0), self.positions, {}
        checked.sort(key=lambda k: len(values[k]))
        first, rest = checked[0], [(k, values[k]) for k in checked[1:]]
        for d in common:  # the starts each term allows, narrowed term by term (map/set work in C)
            starts = set(map(sub, positions(values[first][d]), repeat(first)))
            for k, of_term in rest:
                starts.intersection_update(map(sub, positions(of_term[d]), repeat(k)))
                if not starts:
                    break
            else:
                found_at[d] = len(starts) * boost
        return found_at

    def folded(self, docnum: int, field: str) -> str:
        key = (docnum, field)
        if key not in self._folded:
            self._folded[key] = self.folder.fold(self.r.stored_fields(docnum).get(field) or "")
        return self._folded[key]

    # scores

    def average_length(self, field: str) -> float:
        """Mean characters of ``field``: Whoosh keeps token totals, our lengths are characters."""
        key = f"{field}_len"
        if key not in self._averages:
            total = sum(self.column(key))
            self._averages[key] = total / max(1, self.r.doc_count_all())
        return self._averages[key]

    def scores(self, positives: Sequence[Atom], docs: set[int]) -> tuple[dict[int, float], set[int]]:
        """BM25F of each document in ``docs`` over the positive terms, and those matching in a title."""
        n = max(1, self.r.doc_count())
        scores: dict[int, float] = {}
        in_title: set[int] = set()
        for atom in positives:
            for field in atom.fields or self.default_fields:
                found = self.matches(atom, field)
                if not found:
                    continue
                if field == "title":
                    in_title.update(d for d in found if d in docs)
                idf = math.log(1 + (n - len(found) + 0.5) / (len(found) + 0.5))
                lengths = self.column(f"{field}_len")
                average = max(1.0, self.average_length(field))
                for d, tf in found.items():
                    if d in docs:
                        norm = K1 * (1 - B + B * lengths[d] / average)
                        scores[d] = scores.get(d, 0.0) + idf * tf * (K1 + 1) / (tf + norm)
        return scores, in_title
