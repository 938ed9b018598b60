"""How the index writes and reads Whoosh segments (kexue_archive/index/segments.py).

The recall tests in test_index.py run over indexes written this way; these
check what they cannot see: the two-process write against a one-process one,
a child that fails, updates and deletions spread over several segments, and
that stock Whoosh reads what we write.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_truth import matching, sample_queries
from whoosh import index as wix

from kexue_archive import index
from kexue_archive.archive import load_articles
from kexue_archive.index import writer
from kexue_archive.index.opening import open_snapshot, whoosh_files
from kexue_archive.index.reading import Snapshot
from kexue_archive.records import Article

ALL = 10**6


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Article]]:
    """An archive of 300 generated articles (bench/corpus.py) built by the real build: its index has two segments."""
    from bench.corpus import generate
    from kexue_archive.build import build

    base = tmp_path_factory.mktemp("segments")
    generate(300, base / "seeds", seed=5)
    build(base / "seeds", base / "archive")
    return base / "archive", load_articles(base / "archive")


def _results(root: Path, queries: list[str]) -> list[tuple[int, list[tuple[str, float]]]]:
    found = []
    for q in queries:
        r = index.search(root, q, limit=ALL)
        found.append((r.total, [(h.id, h.score) for h in r.hits]))
    return found


def _queries(articles: list[Article]) -> list[str]:
    samples = sample_queries(articles, seed=11, per_kind=6)
    return [q for terms in samples.values() for q in terms] + ["熵", "模型 -扩散", "概率 OR 梯度", "title:漫谈"]


def _segment_count(root: Path) -> int:
    return len(list((root / "index").glob("*.trm")))


def test_a_fresh_index_is_two_segments_ranked_as_one(corpus: tuple[Path, list[Article]], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root, articles = corpus
    assert len(articles) >= writer.PARALLEL_MIN and _segment_count(root) == 2
    one = tmp_path / "one"
    one.mkdir()
    monkeypatch.setattr(writer, "PARALLEL_MIN", len(articles) + 1)
    index.index_articles(one, articles, full=True)
    assert _segment_count(one) == 1
    queries = _queries(articles)
    assert _results(root, queries) == _results(one, queries)  # same hits, same scores, same order


def test_a_failed_child_leaves_its_half_to_the_parent(corpus: tuple[Path, list[Article]], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _, articles = corpus
    parent, add = os.getpid(), writer.FastSegmentWriter.add_document

    def failing_in_the_child(self: writer.FastSegmentWriter, **fields: object) -> None:
        if os.getpid() != parent:
            raise RuntimeError("the child dies")
        add(self, **fields)

    monkeypatch.setattr(writer.FastSegmentWriter, "add_document", failing_in_the_child)
    index.index_articles(tmp_path, articles, full=True)
    for q in ("的", "模型", "lora"):
        assert {h.id for h in index.search(tmp_path, q, limit=ALL).hits} == matching(articles, q), q


def test_updates_and_deletions_across_segments(corpus: tuple[Path, list[Article]], tmp_path: Path) -> None:
    root = tmp_path / "archive"
    shutil.copytree(corpus[0], root)
    articles = corpus[1]
    edited = [dataclasses.replace(a, title=f"改过的标题Qwxz{k}") if k % 7 == 0 else a for k, a in enumerate(articles)]
    kept = [a for k, a in enumerate(edited) if k % 11 != 5]  # some removed from each segment
    result = index.index_articles(root, kept)
    assert not result.rebuilt and result.removed == len(articles) - len(kept) and result.updated > 0
    for q in ("qwxz", "的", "模型", "扩散模型", "title:漫谈"):
        fields = ["title"] if q.startswith("title:") else None
        expected = matching(kept, q.removeprefix("title:"), fields) if fields else matching(kept, q)
        assert {h.id for h in index.search(root, q, limit=ALL).hits} == expected, q


def test_an_updated_index_ranks_as_one_built_afresh(corpus: tuple[Path, list[Article]], tmp_path: Path) -> None:
    """Incremental == full for search too: after single-record updates (replaced documents linger in
    their segments until Whoosh merges them), hits, order and scores are a fresh index's."""
    root = tmp_path / "updated"
    shutil.copytree(corpus[0], root)
    articles = list(corpus[1])
    for k in range(12):
        articles[k * 5] = dataclasses.replace(articles[k * 5], excerpt=articles[k * 5].excerpt + f" 扩散模型 Qwxz{k} 新增")
        assert not index.index_articles(root, articles).rebuilt
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    index.index_articles(fresh, articles, full=True)
    queries = [*_queries(articles), "扩散模型", "新增", "qwxz3", '"扩散模型 qwxz"']
    assert _results(root, queries) == _results(fresh, queries)


def test_stock_whoosh_reads_our_segments(corpus: tuple[Path, list[Article]]) -> None:
    """Our format and blocks are Whoosh's files: its own searcher finds the documents having all of a
    query's terms, with each term's count as its weight, as our analysis of the records says."""
    from whoosh import index as wix
    from whoosh.query import And, Term

    from kexue_archive.analysis import fold, query_terms, term_counts

    root, articles = corpus
    counted = {a.id: term_counts(fold(a.excerpt)) for a in articles}
    with wix.open_dir(str(root / "index")).searcher() as s:
        for word in ("扩散模型", "注意力机制", "梯度", "lora", "模型"):
            terms = query_terms(word)
            stock = {s.stored_fields(d)["id"] for d in s.docs_for_query(And([Term("excerpt", t) for t in terms]))}
            assert stock == {i for i, found in counted.items() if all(found[t] for t in terms)}, word
            assert matching(articles, word, ["excerpt"]) <= stock
        postings = s.reader().postings("excerpt", "模型")
        weights = {}
        while postings.is_active():
            weights[s.stored_fields(postings.id())["id"]] = (postings.weight(), postings.value_as("frequency"))
            postings.next()
        assert weights == {i: (found["模型"], found["模型"]) for i, found in counted.items() if found["模型"]}


@given(st.lists(st.integers(0, 3), min_size=1, max_size=3000))
@settings(max_examples=15, deadline=None)
def test_long_posting_lists_round_trip(counts: list[int]) -> None:
    """A term in thousands of documents (several blocks): what stock Whoosh and our reader read back."""
    from kexue_archive.analysis import fold

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        articles = [_article(k, " ".join(["熵"] * times + ["x"])) for k, times in enumerate(counts)]
        index.index_articles(root, articles)
        expected = {k: times for k, times in enumerate(counts) if times}
        snapshot, _, _ = _open(root)
        ids = snapshot.strings("id")
        found = snapshot.posting_list("excerpt", "熵")
        assert {int(ids[d]): w for d, w in zip(found.ids, found.weights, strict=True)} == expected
        with wix.open_dir(str(root / "index")).reader() as r:
            m = r.postings("excerpt", "熵") if expected else None
            stock = {}
            while m is not None and m.is_active():
                stock[int(r.stored_fields(m.id())["id"])] = m.value_as("frequency")
                m.next()
        assert stock == expected
        texts = snapshot.texts("excerpt")
        order = {int(ids[d]): d for d in range(len(ids))}
        ends = [order[len(counts) - 1], order[0]]
        assert [t.decode() for t in texts.utf8(ends)] == [fold(" ".join(["熵"] * counts[k] + ["x"])) for k in (len(counts) - 1, 0)]
        snapshot.close()


def _article(k: int, excerpt: str) -> Article:
    return Article(id=str(k), title=None, author=None, date=None, readers=None, excerpt=excerpt, math=(), url=None,
                   sources=(), flags=())


def _open(root: Path) -> tuple[Snapshot, object, object]:
    opened = open_snapshot(root, whoosh_files(root))
    assert opened is not None
    return opened


_KILLED_MID_WRITE = """
import sys, time
from pathlib import Path
from kexue_archive.archive import load_articles
from kexue_archive.index import index_articles, writer

real_fork, real_add = writer._fork_segment, writer.FastSegmentWriter.add_document

def slow_add(self, **fields):  # the child is still writing when its parent dies
    time.sleep(0.05)
    real_add(self, **fields)

def fork(ix, docs):
    child = real_fork(ix, docs)
    print(child[0], flush=True)
    time.sleep(60)  # killed here
    return child

writer.FastSegmentWriter.add_document = slow_add
writer._fork_segment = fork
index_articles(Path(sys.argv[2]), load_articles(Path(sys.argv[1])), full=True)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has stopped: only its parent's reaper is missing


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc (Linux)")
def test_a_killed_build_leaves_no_child_writing(corpus: tuple[Path, list[Article]], tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", _KILLED_MID_WRITE, str(corpus[0]), str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    assert _running(child)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child), "the forked index writer outlived the killed build"
