"""Listing pages of the live blog: /page/N/, /category/…, /search/…, the home page.

Expectations typed in from the fixtures; golden files pin the rest.
"""

from __future__ import annotations

from typing import Any

import pytest
from golden_support import FIXTURES, check_golden, excerpt_paragraphs, ledger

HTML = FIXTURES / "html"
LISTINGS = sorted(p.name for p in HTML.glob("*.html") if p.name.startswith(("listing-", "category-", "search-")))
JUNK = ("点击阅读全文", "By 苏剑林", "位读者", "最近评论", "上一页", "下一页", "Dec", "Mar", "包含关键字", "分类 信息时代")


def read(name: str) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    got = ledger(HTML / name)
    assert got["kind"] == "html-listing"
    rows = [(s["line"], s["title"], s["author"], s["date"], s["readers"], s["url"], s["flags"]) for s in got["sightings"]]
    return got, rows


def url(n: int) -> str:
    return f"https://spaces.ac.cn/archives/{n}"


@pytest.mark.parametrize("name", LISTINGS)
def test_golden(name: str) -> None:
    check_golden(HTML / name)


@pytest.mark.parametrize("name", LISTINGS)
def test_no_boilerplate_in_excerpts(name: str) -> None:
    for s in ledger(HTML / name)["sightings"]:
        for junk in JUNK:
            assert junk not in s["excerpt"], (name, s["title"], junk)


def test_page_2() -> None:
    got, rows = read("listing-page-2.html")
    assert rows == [
        (35, "缓解交叉熵过度自信的一个简明方案", "苏剑林", "2023-03-14", 33913, url(9526), []),
        (47, "Google新搜出的优化器Lion：效率与效果兼得的“训练狮”", "苏剑林", "2023-02-16", 52239, url(9473), []),
        (66, "测试函数法推导连续性方程和Fokker-Planck方程", "苏剑林", "2023-02-11", 36060, url(9467), []),
        (78, "用热传导方程来指导自监督学习", "苏剑林", "2022-11-30", 31471, url(9359), []),
    ]
    assert got["problems"] == []
    ce, lion, _, heat = got["sightings"]
    assert ce["excerpt"].startswith("众所周知，分类问题的常规评估指标是正确率")
    assert "（趋于$-\\log 0^{+}=\\infty$）" in ce["excerpt"]
    assert excerpt_paragraphs(lion)[2] == "先说结果"
    assert excerpt_paragraphs(lion)[-1].endswith("\\end{aligned}\\right.\\end{equation}")
    caption = "热方程的热力图（左）和视觉模型的热力图（右）"
    assert excerpt_paragraphs(heat)[-1] == caption and heat["excerpt"].count(caption) == 1


def test_category_page() -> None:
    got, rows = read("category-big-data.html")
    assert rows == [
        (36, "RoFormerV2：自然语言理解的极限探索", "苏剑林", "2022-03-21", 45821, url(8998), []),
        (48, "为什么需要残差？一个来自DeepNet的视角", "苏剑林", "2022-03-19", 41562, url(8994), []),
        (62, "变分自编码器（八）：估计样本概率密度", "苏剑林", "2021-12-09", 70213, url(8791), []),
    ]
    assert got["problems"] == []
    vae8 = got["sightings"][2]
    assert excerpt_paragraphs(vae8)[-1].endswith(r"\log q_{\theta}(x_i)\label{eq:mle}\end{equation}")


def test_search_page_entry_without_read_more_is_whole() -> None:
    got, rows = read("search-vae.html")
    assert [r[1] for r in rows] == [
        "生成扩散模型漫谈（二）：DDPM = 自回归式VAE", "变分自编码器（八）：估计样本概率密度", "变分自编码器（五）：VAE + BN = 更好的VAE"]
    assert rows[2][3:6] == ("2020-05-06", 195995, url(7381))
    ddpm = got["sightings"][0]
    assert excerpt_paragraphs(ddpm)[-1] == (
        "在传统的VAE中，编码过程和生成过程都是一步到位的：\n"
        r"\begin{equation}\text{编码：}\,\,x\to z\,,\quad \text{生成：}\,\,z\to x\end{equation}"
    )
    assert got["sightings"][2]["excerpt"].endswith("它甚至可以作为VAE模型的“标配”。")


def test_home_page_date_boxes_give_no_year() -> None:
    got, rows = read("listing-home-dateboxes.html")
    assert rows == [
        (35, "变分自编码器（八）：估计样本概率密度", None, "--12-09", None, url(8791), ["year-unknown"]),
        (49, "为什么需要残差？一个来自DeepNet的视角", None, "--03-19", None, url(8994), ["year-unknown"]),
    ]
    assert got["problems"] == []


def test_truncated_listing_keeps_complete_entries() -> None:
    got, rows = read("listing-truncated.html")
    assert rows == [
        (35, "缓解交叉熵过度自信的一个简明方案", "苏剑林", "2023-03-14", 33913, url(9526), []),
        (47, "Google新搜出的优化器Lion：效率与效果兼得的“训练狮”", "苏剑林", "2023-02-16", 52239, url(9473), ["truncated"]),
    ]
    full = ledger(HTML / "listing-page-2.html")["sightings"]
    assert got["sightings"][0]["excerpt"] == full[0]["excerpt"]
    assert got["sightings"][1]["excerpt"].endswith("得到了一个速度更快、显存更省的优化器Lion")
    assert full[1]["excerpt"].startswith(got["sightings"][1]["excerpt"])
    assert [(p["line"], p["severity"], p["message"]) for p in got["problems"]] == [
        (51, "warning", "page ends before </html>: truncated in entry 'Google新搜出的优化器Lion：效率与效果兼得的“训练狮”'")]


def test_drifted_listing_is_split_at_titles() -> None:
    got, rows = read("listing-drifted.html")
    assert rows == [
        (33, "缓解交叉熵过度自信的一个简明方案", "苏剑林", "2023-03-14", 33913, url(9526), []),
        (38, "测试函数法推导连续性方程和Fokker-Planck方程", "苏剑林", "2023-02-11", 36060, url(9467), []),
    ]
    page2 = {s["title"]: s["excerpt"] for s in ledger(HTML / "listing-page-2.html")["sightings"]}
    for s in got["sightings"]:
        assert s["excerpt"] == page2[s["title"]]  # same entry, other markup: same text
    assert [p["message"] for p in got["problems"]] == [
        "no '.Post' entries; page split at its <h2> titles",
        "by-line not in '.submitted'; read from the text that holds it",
        "by-line not in '.submitted'; read from the text that holds it",
    ]


def test_same_entry_reads_the_same_on_every_listing() -> None:
    """VAE (8) on the category, search and home pages: one excerpt, whatever the page."""
    excerpts = {
        s["excerpt"]
        for name in ("category-big-data.html", "search-vae.html", "listing-home-dateboxes.html")
        for s in ledger(HTML / name)["sightings"]
        if s["url"] == url(8791)
    }
    assert len(excerpts) == 1


def test_entries_say_what_the_text_dumps_of_the_same_pages_say() -> None:
    """Page 2 shows articles the seeds also show (as text): same date, readers, and excerpt text."""
    from support import SEEDS

    from kexue_archive.text import squash, title_key

    seen = {
        title_key(s["title"]): s
        for seed in ("000_3d58166289bafc77.txt", "001_21cf883cf368c9e5.txt", "002_6420dfb93066d8c0.txt")
        for s in ledger(SEEDS / seed)["sightings"]
        if s["title"]
    }
    compared = 0
    for s in ledger(HTML / "listing-page-2.html")["sightings"]:
        text = seen[title_key(s["title"])]
        assert (s["date"], s["readers"], s["author"]) == (text["date"], text["readers"], text["author"])
        assert squash(s["excerpt"]).startswith(squash(text["excerpt"]))
        compared += 1
    assert compared == 4
