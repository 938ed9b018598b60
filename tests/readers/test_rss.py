"""Saved RSS 2.0 feeds of the blog (Typecho /feed)."""

from __future__ import annotations

from golden_support import FIXTURES, check_golden, excerpt_paragraphs, ledger

from kexue_archive.readers import read_text
from kexue_archive.tex import scan

RSS = FIXTURES / "rss"


def test_golden_feed() -> None:
    check_golden(RSS / "feed.xml")


def test_golden_truncated_feed() -> None:
    check_golden(RSS / "feed-truncated.xml")


def test_items() -> None:
    got = ledger(RSS / "feed.xml")
    assert got["kind"] == "rss"
    assert got["problems"] == []
    rows = [(s["line"], s["title"], s["author"], s["date"], s["readers"], s["url"], s["flags"]) for s in got["sightings"]]
    assert rows == [
        (17, "Softmax后传：寻找Top-K的光滑近似", "苏剑林", "2024-09-19", None, "https://spaces.ac.cn/archives/10373", []),
        (40, "生成扩散模型漫谈（二十四）：少走捷径，更快到达", "苏剑林", "2024-04-23", None, "https://spaces.ac.cn/archives/10077", []),
        # 00:35 +0800 is still the 19th in UTC: the blog's own date is the one it printed
        (54, "自然数集中 N = ab + c 时 a + b + c 的最小值", "苏剑林", "2023-09-20", None, "https://spaces.ac.cn/archives/9775", []),
        (70, "大词表语言模型在续写任务上的一个问题及对策", "苏剑林", "2023-09-13", None, "https://spaces.ac.cn/archives/9762", []),
    ]


def test_content_encoded_is_read_like_an_article_page() -> None:
    softmax, _, nab, vocab = ledger(RSS / "feed.xml")["sightings"]
    paras = excerpt_paragraphs(softmax)
    assert paras[2] == "问题描述"
    assert paras[-1] == "Top-k算子示意图" and softmax["excerpt"].count("Top-k算子示意图") == 1
    assert "转载" not in softmax["excerpt"]
    equation = (
        "\\begin{equation}\n"
        r"[\mathcal{T}_k(\boldsymbol{x})]_i = \left\{\begin{aligned}1,\,\, i\in \Omega_k(\boldsymbol{x}) \\ "
        r"0,\,\, i \not\in \Omega_k(\boldsymbol{x})\end{aligned}\right." "\n\\end{equation}"
    )
    assert equation in softmax["excerpt"]
    assert scan(softmax["excerpt"]).unbalanced == ()
    assert "对于一个任意整数$N > 100$，求一个近似算法" in nab["excerpt"]
    # no content:encoded: the plain description, one paragraph per line
    assert excerpt_paragraphs(vocab)[1:] == ["优劣分析", "增加词表大小的好处是显而易见的。"]


def test_truncated_feed_keeps_complete_items() -> None:
    got = ledger(RSS / "feed-truncated.xml")
    assert [s["title"] for s in got["sightings"]] == ["Softmax后传：寻找Top-K的光滑近似", "生成扩散模型漫谈（二十四）：少走捷径，更快到达"]
    full = ledger(RSS / "feed.xml")["sightings"]
    assert got["sightings"] == full[:2]
    assert [(p["line"], p["message"]) for p in got["problems"]] == [
        (54, "feed cut off inside item '自然数集中 N = ab + c 时 a + b + c 的最小值': item skipped"),
        (64, "feed ends before </rss>: truncated"),
    ]


def test_feed_in_another_encoding_declaration_and_entity_escaped_html() -> None:
    """The text arrives decoded; a GBK declaration must not make lxml decode it again."""
    feed = (
        '<?xml version="1.0" encoding="GBK"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
        "<channel><item><title>相对论、对称和第四维</title><link>https://kexue.fm/archives/1577</link>\n"
        "<pubDate>Tue, 01 May 2012 20:06:00 +0800</pubDate>\n"
        "<content:encoded>&lt;p&gt;这篇文章其实在年初就完成了。&lt;/p&gt;</content:encoded></item></channel></rss>\n"
    )
    kind, reading = read_text(feed, "feed.gbk.xml")
    assert kind == "rss"
    [s] = reading.sightings
    assert (s.line, s.title, s.date, s.url, s.author, s.excerpt) == (
        3, "相对论、对称和第四维", "2012-05-01", "https://spaces.ac.cn/archives/1577", None, "这篇文章其实在年初就完成了。")
    assert [str(p) for p in reading.problems] == []


def test_bad_items_are_reported_not_fatal() -> None:
    feed = (
        "<rss version=\"2.0\"><channel>\n"
        "<item><title>没有日期</title><link>https://example.com/x</link><description>正文</description></item>\n"
        "<item><title>坏日期</title><link>https://kexue.fm/archives/2</link><pubDate>yesterday</pubDate></item>\n"
        "</channel></rss>"
    )
    _, reading = read_text(feed, "f.xml")
    assert [(s.title, s.date, s.url) for s in reading.sightings] == [("没有日期", None, None), ("坏日期", None, "https://spaces.ac.cn/archives/2")]
    assert [str(p) for p in reading.problems] == [
        "f.xml:2: info: item link 'https://example.com/x' is not an article of the blog: url unknown",
        "f.xml:2: warning: item without pubDate: date unknown",
        "f.xml:3: warning: unreadable pubDate 'yesterday': date unknown",
    ]


def test_not_xml_at_all() -> None:
    kind, reading = read_text("<rss \x00\x01 garbage", "f.xml")
    assert kind == "rss" and reading.sightings == ()
    assert reading.problems  # said, not raised
