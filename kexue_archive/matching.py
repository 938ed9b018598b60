"""A parsed query evaluated over the index's postings: exact document sets, BM25F, ranking.

Works on any reader with Whoosh's ``IndexReader`` interface (postings,
frequencies, field lengths, columns, stored fields) and imports nothing from
Whoosh: ``index`` opens the reader and hands it over.

Why not Whoosh's own Phrase query and collectors: they build a span object
per position and call several Python methods per matching document, about
ten times the work done here, where one leapfrog over the posting lists
yields both the exact set and each document's match counts, from which the
score is computed directly (BM25F: per field, summed over fields and terms).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .analysis import Folder, is_exact, query_terms, segments
from .query import And, Atom, Node, Not, Or, occurs, positive_atoms

K1, B = 1.2, 0.75


class Evaluator:
    """One query against one reader."""

    def __init__(
        self, reader: Any, folder: Folder, default_fields: Sequence[str], boosts: Mapping[str, float],
        averages: dict[str, float] | None = None,
    ) -> None:
        """``averages``: mean field lengths, kept by the caller for as long as ``reader`` is unchanged."""
        self.r, self.folder, self.default_fields, self.boosts = reader, folder, tuple(default_fields), boosts
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
            column = self.r.column_reader("date_rank" if sort == "date" else "readers_rank")
            keys = {d: (column[d], 0.0) for d in docs}
        return len(docs), [(d, scores.get(d, 0.0)) for d in self.best(keys, limit)]

    def best(self, keys: dict[int, tuple[Any, float]], limit: int) -> list[int]:
        """The ``limit`` smallest keys, ties broken by id (looked up only for the documents that tie)."""
        ids = self.r.column_reader("id")
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
        if (field, term) not in self.r:
            return {}
        m, found = self.r.postings(field, term), {}
        while m.is_active():
            found[m.id()] = m.weight()  # occurrences x field boost
            m.next()
        return found

    def _phrase(self, field: str, terms: list[str]) -> dict[int, float]:
        """Documents with ``terms`` at consecutive positions: leapfrog the postings, rarest first."""
        if any((field, t) not in self.r for t in terms):
            return {}
        order = sorted(range(len(terms)), key=lambda k: self.r.doc_frequency(field, terms[k]))
        ms = [(k, self.r.postings(field, terms[k])) for k in order]
        lead, boost, found = ms[0][1], self.boosts.get(field, 1.0), {}
        while lead.is_active():
            target = lead.id()
            for _, m in ms[1:]:
                if m.is_active() and m.id() < target:
                    m.skip_to(target)
            if not all(m.is_active() for _, m in ms[1:]):
                break
            ahead = max(m.id() for _, m in ms)
            if ahead != target:
                lead.skip_to(ahead)
                continue
            starts = {p - ms[0][0] for p in lead.value_as("positions")}
            for k, m in ms[1:]:
                starts &= {p - k for p in m.value_as("positions")}
                if not starts:
                    break
            if starts:
                found[target] = len(starts) * boost
            lead.next()
        return found

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
            total = sum(self.r.column_reader(key))
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
                lengths = self.r.column_reader(f"{field}_len")
                average = max(1.0, self.average_length(field))
                for d, tf in found.items():
                    if d in docs:
                        norm = K1 * (1 - B + B * lengths[d] / average)
                        scores[d] = scores.get(d, 0.0) + idf * tf * (K1 + 1) / (tf + norm)
        return scores, in_title
