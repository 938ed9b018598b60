"""The page's search gives exactly the CLI's hits: the JS port of the query language and of
folding is checked against kexue_archive.query / analysis on the real records, query by query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kexue_archive import analysis, query
from kexue_archive.archive import load_articles
from kexue_archive.records import Article
from kexue_archive.render import render_site

QUERIES = [
    # 1-4 character Chinese, including one character and traditional forms
    "熵", "模型", "扩散", "外推", "扩散模型", "生成函数", "注意力", "梯度下降", "擴散模型", "變分", "優化器", "概率",
    # Latin words in any case, whole-word matching, digits, symbols, full width
    "lora", "LoRA", "LORA", "ｌｏｒａ", "Transformer", "transformer", "softmax", "GAN", "gan", "bert", "vae", "BN",
    "top-k", "GPT2", "2023", "\\frac", "\\sum", "e^{s_i}", "x", "a", "=",
    # operators, phrases, fields, grouping
    "模型 梯度", "LoRA 梯度", "扩散 OR 注意力", "模型 -扩散", "模型 NOT 扩散", '"生成扩散模型漫谈"', '"VAE + BN"',
    "title:扩散", "title:(VAE OR LoRA)", "excerpt:笔者", "math:\\frac", "math:s_i", "author:苏剑林",
    "(扩散 OR 变分) 模型", "模型 AND 训练", "最小熵原理(二)", "GPT-4", "Fokker-Planck", "exp(x)",
]


def truth(articles: list[Article], q: str) -> set[str]:
    """Brute force, with the CLI's own parser and matcher."""
    node = query.parse(q, analysis.fold)

    def fields(a: Article) -> dict[str, str]:
        return {"title": a.title or "", "excerpt": a.excerpt, "math": "\n".join(m.tex for m in a.math), "author": a.author or ""}

    def test(n: query.Node, f: dict[str, str]) -> bool:
        if isinstance(n, query.Atom):
            return any(query.occurs(n.text, analysis.fold(f[name])) for name in n.fields or query.DEFAULT_FIELDS)
        if isinstance(n, query.Not):
            return not test(n.child, f)
        if isinstance(n, query.And):
            return all(test(c, f) for c in n.children)
        return any(test(c, f) for c in n.children)

    return {a.id for a in articles if test(node, fields(a))}


@pytest.fixture(scope="module")
def records(seeds_archive: Path) -> list[Article]:
    return load_articles(seeds_archive)


@pytest.fixture()
def search_page(site: Path, page: Any) -> Any:
    page.goto((site / "search.html").as_uri())
    return page


def js_hits(page: Any, q: str, sort: str = "date") -> list[str]:
    return page.evaluate(
        "([q, sort]) => window.KexueSearch.search({q, year: '', sort}).hits.map(i => window.KEXUE_INDEX.items[i][0])", [q, sort]
    )


def test_page_hits_equal_the_cli_hits(records: list[Article], search_page: Any) -> None:
    nonempty = 0
    for q in QUERIES:
        expected = truth(records, q)
        got = js_hits(search_page, q)
        assert len(got) == len(set(got)), q
        assert set(got) == expected, q
        nonempty += bool(expected)
    assert nonempty >= len(QUERIES) * 2 // 3  # the queries really exercise matching


def test_hostile_and_generated_records_agree(tmp_path: Path, browser: Any) -> None:
    """Odd characters (ligatures, ß, combining marks, astral CJK, zero-width) fold the same way."""
    from kexue_archive.tex import scan

    texts = ["Straße und STRASSE", "ﬁnance ﬁ fi", "e\u0301cole école", "𠀀𠀁 扩\u200b散", "Ǆ ǆ ǅ", "Σίσυφος ΣΊΣΥΦΟΣ",
             "乾隆 干 幹", "①② 12", "ＡＢＣ abc", "tab\there", "</script><!--", "x_1 x₁ ㎏ kg"]
    arts = [Article(id=f"g{i:011d}", title=t, author=None, date=None, readers=None, excerpt=t + " $" + t + "$",
                    math=scan(t + " $" + t + "$").math, url=None, sources=(), flags=()) for i, t in enumerate(texts)]
    site = tmp_path / "site"
    render_site(site, arts)
    page = browser.new_page()
    try:
        page.goto((site / "search.html").as_uri())
        for q in ["strasse", "straße", "fi", "ﬁ", "école", "ecole", "𠀀", "扩散", "ǆ", "σίσυφος", "干", "1", "①", "abc",
                  "ＡＢＣ", "here", "tab", "</script>", "kg", "x1", "x_1", "math:kg", "title:fi"]:
            assert set(js_hits(page, q)) == truth(arts, q), q
    finally:
        page.close()


def test_sorting_matches_the_lists(records: list[Article], search_page: Any) -> None:
    by_readers = js_hits(search_page, "的", "readers")
    readers = {a.id: a.readers for a in records}
    values = [readers[i] for i in by_readers]
    known = [v for v in values if v is not None]
    assert known == sorted(known, reverse=True) and values[: len(known)] == known
    by_date = js_hits(search_page, "的", "date")
    dates = {a.id: a.date for a in records}
    full = [dates[i] for i in by_date if dates[i] and not dates[i].startswith("--")]
    assert full == sorted(full, reverse=True)
    assert [i for i in by_date if dates[i] is None] == by_date[len(by_date) - sum(1 for i in by_date if dates[i] is None):]
