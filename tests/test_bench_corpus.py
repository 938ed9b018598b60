"""The benchmark corpus must be read by the real readers exactly as intended:
every generated article becomes one record, duplicates merge, nothing is flagged
as broken. Otherwise the benchmark would time a different workload."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
from support import ROOT

from kexue_archive import archive as store
from kexue_archive.build import build
from kexue_archive.readers import kind_of
from kexue_archive.tex import scan
from kexue_archive.text import nfkc, title_id

sys.path.insert(0, str(ROOT))  # bench/ is a folder of scripts at the repo root, not an installed package
from bench import corpus

N = 400


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    seeds = tmp_path_factory.mktemp("corpus") / "seeds"
    return seeds, corpus.generate(N, seeds, seed=7)


def test_same_seed_same_bytes_other_seed_other_bytes(generated: tuple[Path, list[Path]], tmp_path: Path) -> None:
    _, paths = generated
    again = corpus.generate(N, tmp_path / "again", seed=7)
    assert [p.name for p in again] == [p.name for p in paths]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(again, paths, strict=True))
    other = corpus.generate(N, tmp_path / "other", seed=8)
    assert {p.read_bytes() for p in other}.isdisjoint(p.read_bytes() for p in paths)


def test_dumps_hold_20_to_50_articles_in_both_text_layouts(generated: tuple[Path, list[Path]]) -> None:
    _, paths = generated
    originals = [p for p in paths if not p.name.startswith("recrawl")]
    kinds = Counter(kind.name if (kind := kind_of(p.read_text())) else None for p in paths)
    assert set(kinds) == {"text-listing", "text-home", "html-listing"}
    sizes = [p.read_text().count("位读者 |" if "listing" in p.name else "点击阅读全文...") for p in originals]
    assert all(20 <= n <= 50 for n in sizes[:-1])  # the last page holds what is left
    assert sum(sizes) == N


def test_build_gives_one_clean_record_per_article(generated: tuple[Path, list[Path]], tmp_path: Path) -> None:
    seeds, _ = generated
    result = build(seeds, tmp_path / "archive")
    assert result.records == N
    assert result.sightings == round(N * (1 + corpus.DUPLICATE_RATE))
    assert [p for p in result.problems if p.severity != "info"] == []
    records = store.load_articles(tmp_path / "archive")
    flags = Counter(f for a in records for f in a.flags)
    assert set(flags) <= {"year-unknown"}
    by_id = {a.id: a for a in records}
    for art in corpus.articles(0, N, seed=7):
        record = by_id[title_id(art.title)]
        assert record.title == art.title  # the full-width original wins over an NFKC copy
        assert record.date in (art.date, "--" + art.date[5:])
        assert 200 <= len(record.excerpt) <= 600
    assert sum(a.url is not None for a in records) >= N // 10  # HTML pages give the article's address


def test_content_has_series_full_width_titles_and_math() -> None:
    arts = corpus.articles(0, N, seed=7)
    assert sum("生成扩散模型漫谈（" in a.title or "变分自编码器（" in a.title for a in arts) >= 5
    assert sum(a.title != nfkc(a.title) for a in arts) >= N // 10
    inline = [sum(1 for m in scan(a.excerpt).math if not m.display) for a in arts]
    display = [sum(1 for m in scan(a.excerpt).math if m.display) for a in arts]
    assert set(inline) == {0, 1, 2, 3}
    assert set(display) == {0, 1}
    assert {a.date[:4] for a in arts} >= {"2009", "2017", "2025"}


def test_add_dump_brings_new_articles_only(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    corpus.generate(100, seeds, seed=3)
    build(seeds, tmp_path / "archive")
    path = corpus.add_dump(seeds, count=20)
    assert kind_of(path.read_text()) is not None
    result = build(seeds, tmp_path / "archive")
    assert (result.new_dumps, result.records) == (1, 120)
    assert [a.index for a in corpus.added_articles(seeds)] == list(range(100, 120))
