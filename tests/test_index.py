"""The index through its own API, against brute-force scans of the records it was built from."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from search_truth import FIELDS, field_text, fold, matching, quoted, sample_queries

from kexue_archive import index
from kexue_archive.archive import load_articles
from kexue_archive.errors import UserError
from kexue_archive.index import writer
from kexue_archive.query import QueryError
from kexue_archive.records import Article

ALL = 10**6


@pytest.fixture(scope="module")
def seeds_index(seeds_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Article]]:
    root = tmp_path_factory.mktemp("seeds-index") / "archive"
    shutil.copytree(seeds_archive, root)
    articles = load_articles(root)
    index.index_articles(root, articles, full=True)
    return root, articles


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Article]]:
    """A generated corpus of 400 articles (bench/corpus.py), built by the real build."""
    from bench.corpus import generate
    from kexue_archive.build import build

    base = tmp_path_factory.mktemp("corpus-index")
    generate(400, base / "seeds", seed=3)
    root = base / "archive"
    build(base / "seeds", root)
    articles = load_articles(root)
    index.index_articles(root, articles)
    return root, articles


def ids(root: Path, query: str, **options: object) -> set[str]:
    results = index.search(root, query, limit=ALL, **options)  # type: ignore[arg-type]
    assert results.total == len(results.hits)
    return {h.id for h in results.hits}


@pytest.mark.parametrize("which", ["seeds_index", "corpus_index"])
def test_every_sampled_term_has_full_recall_and_precision(which: str, request: pytest.FixtureRequest) -> None:
    root, articles = request.getfixturevalue(which)
    samples = sample_queries(articles, seed=7, per_kind=25)
    assert all(samples[k] for k in samples), {k: len(v) for k, v in samples.items()}
    checked = 0
    for kind, terms in samples.items():
        for term in terms:
            expected = matching(articles, term)
            assert ids(root, quoted(term)) == expected, (kind, term)
            if kind in ("cjk1", "cjk2", "cjk3", "cjk4", "latin", "fullwidth", "traditional", "mixed"):
                assert ids(root, term) == expected, (kind, term)  # unquoted: the same
            checked += 1
    assert checked > 200


def test_absent_terms_find_nothing_and_present_ones_something(corpus_index: tuple[Path, list[Article]]) -> None:
    root, articles = corpus_index
    samples = sample_queries(articles, seed=11, per_kind=20)
    assert all(ids(root, t) for t in samples["cjk3"])
    assert sum(1 for t in samples["absent"] if not ids(root, t)) >= 10


def test_boolean_operators_combine_exact_sets(corpus_index: tuple[Path, list[Article]]) -> None:
    root, articles = corpus_index
    terms = sample_queries(articles, seed=5, per_kind=12)
    pairs = list(zip(terms["cjk2"], terms["cjk3"] + terms["latin"], strict=False))
    for a, b in pairs:
        sa, sb = matching(articles, a), matching(articles, b)
        assert ids(root, f"{a} {b}") == sa & sb == ids(root, f"{a} AND {b}")
        assert ids(root, f"{a} OR {b}") == sa | sb
        assert ids(root, f"{a} -{b}") == sa - sb == ids(root, f"{a} NOT {b}")
        assert ids(root, f"({a} OR {b}) -{a}") == sb - sa
        assert ids(root, f"title:{a}") == matching(articles, a, ["title"])
        assert ids(root, f'excerpt:"{b}" OR title:{a}') == matching(articles, b, ["excerpt"]) | matching(articles, a, ["title"])
        assert ids(root, a, field="math") == matching(articles, a, ["math"])


def test_filters_match_a_scan(corpus_index: tuple[Path, list[Article]]) -> None:
    root, articles = corpus_index
    term = "的"
    base = matching(articles, term)
    years = sorted({a.year for a in articles if a.year})
    year = years[len(years) // 2]
    assert ids(root, term, year=year) == {a.id for a in articles if a.id in base and a.year == year}
    since, until = f"{year}-03", f"{year + 1}-06-15"
    expected = {a.id for a in articles if a.id in base and a.year and f"{year}-03-01" <= (a.date or "") <= until}
    assert ids(root, term, since=since, until=until) == expected
    assert ids(root, term, author="苏剑") == {a.id for a in articles if a.id in base and "苏剑" in (a.author or "")}
    with pytest.raises(UserError, match="bad date"):
        index.search(root, term, since="March")


def test_title_matches_rank_above_excerpt_only_matches(corpus_index: tuple[Path, list[Article]]) -> None:
    root, articles = corpus_index
    by_id = {a.id: a for a in articles}
    tried = 0
    titles = [m.group() for a in articles for m in re.finditer(r"[\u4e00-\u9fff]{2,}", a.title or "")]
    for run in random.Random(13).sample(titles, 40):
        term = run[:2]
        in_title = matching(articles, term, ["title"])
        hits = index.search(root, term, limit=ALL).hits
        if not in_title or len(in_title) == len(hits):
            continue
        tried += 1
        flags = [h.id in in_title for h in hits]
        assert flags == sorted(flags, reverse=True), term
        assert all(fold(term) in fold(by_id[h.id].title or "") for h in hits[: len(in_title)])
    assert tried >= 3


@pytest.mark.parametrize("sort", ["date", "readers"])
def test_sorting_puts_unknown_last(corpus_index: tuple[Path, list[Article]], sort: str) -> None:
    root, articles = corpus_index
    hits = index.search(root, "的", limit=ALL, sort=sort).hits
    assert len(hits) == len(matching(articles, "的"))
    if sort == "date":
        keys = [(2, "") if h.date is None else (1 if h.date.startswith("--") else 0, "") for h in hits]
        assert keys == sorted(keys)
        for kind in ("full", "partial"):
            dates = [h.date for h in hits if h.date and h.date.startswith("--") == (kind == "partial")]
            assert dates == sorted(dates, reverse=True) and dates
    else:
        known = [h.readers for h in hits if h.readers is not None]
        assert known == sorted(known, reverse=True)
        assert [h.readers is None for h in hits] == sorted(h.readers is None for h in hits)
    limited = index.search(root, "的", limit=5, sort=sort).hits
    assert [h.id for h in limited] == [h.id for h in hits[:5]]


def test_snippets_mark_whole_matched_strings(corpus_index: tuple[Path, list[Article]]) -> None:
    root, articles = corpus_index
    samples = sample_queries(articles, seed=17, per_kind=10)
    for term in samples["cjk4"] + samples["traditional"] + samples["latin"]:
        needle = fold(term)
        for hit in index.search(root, quoted(term), limit=20).hits:
            marked = [fold(hit.snippet[s:e]) for s, e in hit.highlights] + [fold((hit.title or "")[s:e]) for s, e in hit.title_highlights]
            assert marked, (term, hit.id)
            assert all(m.startswith(needle) and m.endswith(needle) for m in marked), (term, marked)
            assert "\n" not in hit.snippet


def test_whoosh_syntax_characters_are_plain_text(seeds_index: tuple[Path, list[Article]]) -> None:
    root, articles = seeds_index
    for term in ["x^2", "a*", "f(x)", "[1]", "{x}", "~", "\\frac", "e^{x}", "k!", "title", "$n$", "1/2", "?"]:
        assert ids(root, quoted(term)) == matching(articles, term), term


@pytest.mark.parametrize(
    "query",
    ['"生成函数', "扩散 OR", "OR 扩散", "NOT", "扩散 AND", "-熵", "(扩散 OR 模型", "()", '""', "title:", "\u200b"],
)
def test_malformed_queries_raise_one_clear_error(seeds_index: tuple[Path, list[Article]], query: str) -> None:
    root, _ = seeds_index
    if query == "title:":  # a bare field name is ordinary text, not an error
        assert ids(root, query) == matching(load_articles(root), "title:")
        return
    with pytest.raises(QueryError) as caught:
        index.search(root, query)
    assert "\n" not in str(caught.value) and caught.value.hint


def _edited(a: Article, **changes: object) -> Article:
    return dataclasses.replace(a, **changes)  # type: ignore[arg-type]


def test_updates_touch_only_what_changed(seeds_index: tuple[Path, list[Article]], tmp_path: Path) -> None:
    root = tmp_path / "archive"
    shutil.copytree(seeds_index[0], root)
    articles = seeds_index[1]
    assert index.index_articles(root, articles) == index.IndexResult(0, 0, 0, rebuilt=False)
    renamed = _edited(articles[0], title="全新的标题Zymurgy")
    gone = articles[1]
    new = _edited(articles[2], id="newnewnew001", title="另一篇Quux文章")
    result = index.index_articles(root, [renamed, new, *articles[2:]])
    assert result == index.IndexResult(added=1, updated=1, removed=1, rebuilt=False)
    assert ids(root, "zymurgy") == {renamed.id}
    assert ids(root, "quux") == {new.id}
    assert gone.id not in ids(root, "的 OR a OR 1")
    old_title = articles[0].title or ""
    assert renamed.id not in ids(root, quoted(old_title), field="title")


def _inputs(articles: list[Article]) -> tuple[dict[str, str], Any]:
    """What a build gives ``index.updating``: a digest per id, and a loader."""
    by_id = {a.id: a for a in articles}
    return {i: index._digest(index._document(a)) for i, a in by_id.items()}, lambda wanted: [by_id[i] for i in wanted]


@pytest.fixture
def beside(seeds_index: tuple[Path, list[Article]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Two copies of the seeds' index ("here", "beside"), an edit of its records, and the pids
    of the children ``index.updating`` forks."""
    for name in ("here", "beside"):
        shutil.copytree(seeds_index[0], tmp_path / name)
    articles = seeds_index[1]
    edited = [_edited(articles[0], title="全新的标题Zymurgy"), _edited(articles[2], id="newnewnew001", title="另一篇Quux文章"),
              *articles[2:]]  # articles[1] is gone
    children: list[int] = []
    real = writer.forked
    monkeypatch.setattr(writer, "forked", lambda work: children.append(real(work)) or children[-1])
    return {"here": tmp_path / "here", "beside": tmp_path / "beside", "edited": edited, "children": children,
            "gone": articles[1].id}


def _same_answers(one: Path, other: Path, articles: list[Article]) -> None:
    queries = [q for qs in sample_queries(articles, seed=7, per_kind=4).values() for q in qs]
    assert len(queries) > 10
    for q in [*queries, "zymurgy", "quux", "的 OR a OR 1"]:
        assert ids(one, q) == ids(other, q), q
    digests = [json.loads((root / "index" / "digests.json").read_text())["digests"] for root in (one, other)]
    assert digests[0] == digests[1]


def test_an_update_written_beside_is_the_one_written_here(beside: dict[str, Any]) -> None:
    """index.updating: a forked child writes the update while the caller goes on; the
    result and the index are those of index.update."""
    expected = index.index_articles(beside["here"], beside["edited"])
    with index.updating(beside["beside"], *_inputs(beside["edited"])) as wait:
        assert len(beside["children"]) == 1  # written by a child
        result = wait()
    assert result == expected == index.IndexResult(added=1, updated=1, removed=1, rebuilt=False)
    with pytest.raises(ChildProcessError):
        os.waitpid(beside["children"][0], os.WNOHANG)  # reaped
    _same_answers(beside["beside"], beside["here"], beside["edited"])
    assert beside["gone"] not in ids(beside["beside"], "的 OR a OR 1")


def test_an_update_a_child_failed_is_done_here(beside: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()
    real = index._apply

    def fails_in_a_child(*args: Any) -> index.IndexResult:
        if os.getpid() != parent:
            raise OSError(28, "No space left on device")
        return real(*args)

    monkeypatch.setattr(index, "_apply", fails_in_a_child)
    index.index_articles(beside["here"], beside["edited"])
    with index.updating(beside["beside"], *_inputs(beside["edited"])) as wait:
        result = wait()
    assert len(beside["children"]) == 1
    assert result == index.IndexResult(added=1, updated=1, removed=1, rebuilt=False)
    _same_answers(beside["beside"], beside["here"], beside["edited"])


def test_leaving_early_stops_the_child_and_the_next_update_completes(beside: dict[str, Any]) -> None:
    """A build that fails while its index is written beside it stops the child (none is left
    behind); the index is as it was or as the child committed it, and the next update completes it."""
    with pytest.raises(RuntimeError), index.updating(beside["beside"], *_inputs(beside["edited"])):
        raise RuntimeError("the render failed")
    with pytest.raises(ChildProcessError):
        os.waitpid(beside["children"][0], os.WNOHANG)  # stopped and reaped
    index.index_articles(beside["here"], beside["edited"])
    assert not index.index_articles(beside["beside"], beside["edited"]).rebuilt
    _same_answers(beside["beside"], beside["here"], beside["edited"])


def test_nothing_to_update_forks_nothing(beside: dict[str, Any], seeds_index: tuple[Path, list[Article]]) -> None:
    with index.updating(beside["beside"], *_inputs(seeds_index[1])) as wait:
        assert wait() == index.IndexResult(0, 0, 0, rebuilt=False)
    assert beside["children"] == []


def test_a_stale_or_broken_index_is_reported_then_rebuilt(seeds_index: tuple[Path, list[Article]], tmp_path: Path) -> None:
    root = tmp_path / "archive"
    shutil.copytree(seeds_index[0], root)
    articles = seeds_index[1]
    meta = root / "index" / "kexue-index.json"
    meta.write_text(json.dumps({"schema": index.SCHEMA_VERSION - 1}))
    with pytest.raises(UserError, match="missing or stale"):
        index.search(root, "模型")
    assert index.index_articles(root, articles).rebuilt
    assert ids(root, "模型") == matching(articles, "模型")
    for pattern in ("*.pst", "*.trm", "*.toc"):  # damaged postings, term index, table of contents
        damaged = list((root / "index").glob(pattern))
        assert damaged, pattern
        for f in damaged:
            f.write_bytes(b"x" * f.stat().st_size)
        with pytest.raises(UserError, match=r"missing or stale|damaged") as caught:
            index.search(root, "模型")
        assert "run `kexue-archive build`" in str(caught.value)
        assert index.index_articles(root, articles).rebuilt
        assert ids(root, "模型") == matching(articles, "模型")
    shutil.rmtree(root / "index")
    with pytest.raises(UserError, match="missing or stale"):
        index.search(root, "模型")
    assert index.index_articles(root, articles).rebuilt
    assert ids(root, "模型") == matching(articles, "模型")


@pytest.mark.parametrize("pattern", ["*.pst", "*.trm", "*.excerpt_folded.col", "*._stored.col", "*.id.col"])
@pytest.mark.parametrize("damage", ["overwritten", "cut short"])
def test_files_damaged_in_place_are_reported(seeds_index: tuple[Path, list[Article]], tmp_path: Path,
                                             pattern: str, damage: str) -> None:
    """Bytes changed behind the index's back with the size and time kept (a disk fault, a bad copy):
    the search says the index is damaged and how to repair it, never a traceback."""
    root = tmp_path / "archive"
    shutil.copytree(seeds_index[0], root)
    meta = json.loads((root / "index" / "kexue-index.json").read_text(encoding="utf-8"))
    for f in (root / "index").glob(pattern):
        size, stat = f.stat().st_size, f.stat()
        f.write_bytes(b"\xff" * size if damage == "overwritten" else f.read_bytes()[: size // 3])
        os.utime(f, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if damage == "cut short":  # the size is what the index noted: describe the shorter files as if they were
        meta["files"] = index.opening.whoosh_files(root)
        (root / "index" / "kexue-index.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(UserError, match="damaged") as caught:
        for q in ("模型", "扩散模型", "lora"):
            index.search(root, q, limit=100)
    assert "run `kexue-archive build --full`" in str(caught.value)
    assert index.index_articles(root, seeds_index[1], full=True).rebuilt
    assert ids(root, "模型") == matching(seeds_index[1], "模型")


def test_an_update_that_meets_damaged_files_rebuilds(seeds_index: tuple[Path, list[Article]], tmp_path: Path) -> None:
    """Postings changed in place (same size and time) are found by the update reading them: it
    rebuilds the index instead of failing, and the search is right again."""
    root = tmp_path / "archive"
    shutil.copytree(seeds_index[0], root)
    for f in (root / "index").glob("*.pst"):
        stat = f.stat()
        f.write_bytes(b"\xff" * stat.st_size)
        os.utime(f, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    articles = list(seeds_index[1])
    articles[0] = dataclasses.replace(articles[0], excerpt=articles[0].excerpt + " 改过的模型")
    assert index.index_articles(root, articles).rebuilt
    assert ids(root, "模型") == matching(articles, "模型")


def test_field_texts_cover_what_the_search_scans(seeds_index: tuple[Path, list[Article]]) -> None:
    _, articles = seeds_index
    assert any(field_text(a, "math") for a in articles)
    assert FIELDS == index.DEFAULT_FIELDS
