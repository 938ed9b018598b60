"""Our reader of the index's files (kexue_archive/index/reading.py) against stock Whoosh's reader of the same files.

Over an index of generated articles written as two segments, then updated
(replaced and removed documents linger, deleted, in their segments): every
term's postings and document frequency, every column and stored field.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as wix

from kexue_archive import index
from kexue_archive.archive import load_articles
from kexue_archive.index.opening import NUMERIC_COLUMNS, TEXT_FIELDS, open_snapshot, whoosh_files
from kexue_archive.index.reading import Snapshot
from kexue_archive.records import Article


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built archive of 260 generated articles whose index was then updated: some edited, some removed."""
    from bench.corpus import generate
    from kexue_archive.build import build

    base = tmp_path_factory.mktemp("reading")
    generate(260, base / "seeds", seed=3)
    build(base / "seeds", base / "archive")
    articles: list[Article] = load_articles(base / "archive")
    edited = [dataclasses.replace(a, excerpt=a.excerpt + f" 新加的话{k}") if k % 9 == 0 else a for k, a in enumerate(articles)]
    result = index.index_articles(base / "archive", [a for k, a in enumerate(edited) if k % 13 != 4])
    assert not result.rebuilt and result.updated and result.removed
    return base / "archive"


@pytest.fixture()
def both(updated: Path) -> Any:
    opened = open_snapshot(updated, whoosh_files(updated))
    assert opened is not None
    snapshot = opened[0]
    with wix.open_dir(str(updated / "index")).reader() as stock:
        yield snapshot, stock
    snapshot.close()


def test_documents_and_deletions(both: tuple[Snapshot, Any]) -> None:
    ours, stock = both
    assert len(ours.segments) >= 2 and any(s.info.deleted for s in ours.segments)
    assert (ours.doc_count_all(), ours.doc_count()) == (stock.doc_count_all(), stock.doc_count())
    assert list(ours.all_doc_ids()) == list(stock.all_doc_ids())


def test_every_term_reads_as_stock_whoosh_reads_it(both: tuple[Snapshot, Any]) -> None:
    ours, stock = both
    terms = [(field, term) for field, term in stock.all_terms() if field in (*TEXT_FIELDS, "id")]
    assert len(terms) > 1000
    for field, term in terms:
        text = term.decode()
        found = ours.posting_list(field, text)
        m = stock.postings(field, term)
        expected: list[tuple[int, float]] = []
        while m.is_active():
            if not stock.is_deleted(m.id()):
                expected.append((m.id(), m.weight()))
            m.next()
        assert list(zip(found.ids, found.weights, strict=True)) == expected, (field, text)
        assert ours.document_frequency(field, text) == stock.doc_frequency(field, term)
    assert ours.posting_list("excerpt", "不在索引里的词") == ([], [])
    assert ours.posting_list("no-such-field", "模型") == ([], [])


def test_columns_and_stored_fields(both: tuple[Snapshot, Any]) -> None:
    ours, stock = both
    every = range(stock.doc_count_all())
    for name in NUMERIC_COLUMNS:
        column = stock.column_reader(name)
        assert ours.numbers(name) == [column[d] for d in every], name
    ids = stock.column_reader("id")
    assert [ours.strings("id")[d] for d in every] == [ids[d] for d in every]
    for field in TEXT_FIELDS:
        folded = stock.column_reader(f"{field}_folded", translate=False)
        expected = [folded[d].decode() for d in every]
        assert [t.decode() for t in ours.texts(field).utf8(list(every))] == expected, field
        assert [ours.texts(field)[d] for d in every] == expected, field
    assert [ours.stored_fields(d) for d in every] == [stock.stored_fields(d) for d in every]


def test_a_search_does_not_import_whoosh(updated: Path, tmp_path: Path) -> None:
    """The point of the reader: a cold ``kexue-archive search`` (a fresh process) never imports Whoosh."""
    root = tmp_path / "archive"
    shutil.copytree(updated, root)
    code = ("import sys\nfrom kexue_archive.cli import main\n"
            "try:\n    main(['search', '--archive', sys.argv[1], '--year', '2021', '模型 -扩散'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('whoosh', 'yaml', 'bs4', 'lxml', 'jinja2')))")
    done = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"
    assert "模型" in done.stdout
