"""HTML pages and feeds merged with the text dumps by a real build, in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from golden_support import FIXTURES
from support import SEEDS

from kexue_archive.archive import load_articles
from kexue_archive.build import build
from kexue_archive.records import Article
from kexue_archive.text import title_key

LION = "Google新搜出的优化器Lion：效率与效果兼得的“训练狮”"


def build_from(tmp_path: Path, *files: Path) -> dict[str, Article]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for f in files:
        shutil.copy(f, seeds / f.name)
    build(seeds, tmp_path / "archive")
    articles = load_articles(tmp_path / "archive")
    return {title_key(a.title or a.id): a for a in articles}


def test_article_page_and_text_dump_become_one_record(tmp_path: Path) -> None:
    records = build_from(tmp_path, SEEDS / "001_21cf883cf368c9e5.txt", FIXTURES / "html" / "article-lion.html")
    assert len(records) == 8  # seed 001's eight articles; the page adds none
    lion = records[title_key(LION)]
    assert lion.title == LION  # the live site's typography beats the NFKC'd dump
    assert lion.url == "https://spaces.ac.cn/archives/9473"
    assert (lion.date, lion.readers, lion.author) == ("2023-02-16", 53107, "苏剑林")  # the larger count
    assert sorted((s.file, s.line, s.readers) for s in lion.sources) == [
        ("001_21cf883cf368c9e5.txt", 32, 52239), ("article-lion.html", 41, 53107)]
    assert lion.excerpt.endswith("优于AdamW的表现。")  # the whole article won
    assert lion.flags == ()  # the dump's excerpt is a prefix of the page's: no conflict
    assert sum(1 for m in lion.math if m.display) == 2


def test_every_kind_of_page_merges_with_the_seeds(tmp_path: Path) -> None:
    html, rss = FIXTURES / "html", FIXTURES / "rss"
    records = build_from(
        tmp_path, *sorted(SEEDS.iterdir()), html / "article-lion.html", html / "article-vae8-no-title.html",
        html / "listing-page-2.html", html / "category-big-data.html", html / "content.html", rss / "feed.xml",
    )
    vae8 = records[title_key("变分自编码器(八):估计样本概率密度")]
    # the title-less article page joined the home-page dump's titled card (same day, same opening)
    assert vae8.date == "2021-12-09" and vae8.url == "https://spaces.ac.cn/archives/8791"
    assert {s.file for s in vae8.sources} == {
        "004_90563b16d9f48e18.txt", "article-vae8-no-title.html", "category-big-data.html", "content.html"}
    assert "title-missing" not in vae8.flags and "year-unknown" not in vae8.flags
    # content.html gives a year to what the home page only knew as a day and month
    assert records[title_key("相对论、对称和第四维")].url == "https://spaces.ac.cn/archives/1577"
    heat = records[title_key("用热传导方程来指导自监督学习")]
    assert heat.date == "2022-11-30" and heat.url == "https://spaces.ac.cn/archives/9359"
    softmax = records[title_key("Softmax后传：寻找Top-K的光滑近似")]
    assert softmax.readers == 22119 and softmax.url == "https://spaces.ac.cn/archives/10373"
    # Only the dumps' own damage conflicts: seed 004 drops the 、 in "CAM、积分梯度" (seed 001 and the
    # page have it) and the 和 in "60亿和200亿". Every other page agrees with every dump.
    conflicts = sorted(a.title or "" for a in records.values() if "excerpt-conflict" in a.flags)
    assert conflicts == ["RoFormerV2：自然语言理解的极限探索", "用热传导方程来指导自监督学习"]
