"""The archive page content.html: one dated, linked, excerpt-less sighting per article."""

from __future__ import annotations

from golden_support import FIXTURES, check_golden, ledger

from kexue_archive.readers import read_text

HTML = FIXTURES / "html"


def test_golden() -> None:
    check_golden(HTML / "content.html")


def test_every_entry_with_its_full_date() -> None:
    got = ledger(HTML / "content.html")
    assert got["kind"] == "html-content"
    assert got["problems"] == []
    rows = [(s["line"], s["date"], s["title"], s["url"]) for s in got["sightings"]]
    assert rows == [
        (24, "2024-09-19", "Softmax后传：寻找Top-K的光滑近似", "https://spaces.ac.cn/archives/10373"),
        (28, "2024-04-23", "生成扩散模型漫谈（二十四）：少走捷径，更快到达", "https://spaces.ac.cn/archives/10077"),
        (33, "2023-09-20", "自然数集中 N = ab + c 时 a + b + c 的最小值", "https://spaces.ac.cn/archives/9775"),
        (34, "2023-09-13", "大词表语言模型在续写任务上的一个问题及对策", "https://spaces.ac.cn/archives/9762"),
        (38, "2023-02-16", "Google新搜出的优化器Lion：效率与效果兼得的“训练狮”", "https://spaces.ac.cn/archives/9473"),
        (43, "2021-12-09", "变分自编码器（八）：估计样本概率密度", "https://spaces.ac.cn/archives/8791"),
        (48, "2013-01-20", "天象·刚柔并济的双星", "https://spaces.ac.cn/archives/1881"),
        (53, "2012-05-01", "相对论、对称和第四维", "https://spaces.ac.cn/archives/1577"),
        (58, "2010-07-29", "R136a1，300倍太阳质量的怪兽星", "https://spaces.ac.cn/archives/1050"),
        (63, "2009-10-31", "钱学森：人生书写时代", "https://spaces.ac.cn/archives/86"),
    ]
    for s in got["sightings"]:
        assert (s["author"], s["readers"], s["excerpt"], s["flags"]) == (None, None, "", ["excerpt-missing"])


def page(body: str) -> str:
    return f"<!DOCTYPE html>\n<html><body><div id=\"PostContent\">\n{body}\n</div></body></html>\n"


def test_counts_and_bad_dates_are_reported() -> None:
    text = page(
        "<h3>2013年 (共3篇)</h3>\n<h4>02月</h4>\n<ul>\n"
        "<li>30日: <a href=\"https://kexue.fm/archives/1900\">不存在的日子</a></li>\n"
        "<li>28日: <a href=\"/archives/1899\">真实的日子</a></li>\n</ul>"
    )
    kind, reading = read_text(text, "c.html")
    assert kind == "html-content"
    assert [(s.line, s.date, s.flags) for s in reading.sightings] == [
        (6, None, ("date-invalid", "excerpt-missing")), (7, "2013-02-28", ("excerpt-missing",))]
    assert [str(p) for p in reading.problems] == [
        "c.html:6: warning: '不存在的日子': impossible date 2013-02-30: kept unknown",
        "c.html:3: warning: 2013年 claims 3 articles, 2 found",
    ]


def test_entries_before_any_year_keep_no_year() -> None:
    text = page("<h4>07月</h4>\n<p>29日: <a href=\"https://spaces.ac.cn/archives/1050\">R136a1，300倍太阳质量的怪兽星</a></p>\n"
                "<h3>2009年 (共0篇)</h3>")
    _, reading = read_text(text, "c.html")
    assert [(s.date, s.flags) for s in reading.sightings] == [("--07-29", ("excerpt-missing", "year-unknown"))]
    assert "c.html:4: warning: 'R136a1，300倍太阳质量的怪兽星': no year heading before the link: year unknown" in map(str, reading.problems)


def test_page_cut_inside_a_link_drops_that_entry() -> None:
    full = (HTML / "content.html").read_text(encoding="utf-8")
    cut = full[: full.index("相对论、对称") + len("相对论、对称")]  # the 2012 entry's title is half there
    _, reading = read_text(cut, "content.html")
    titles = [s.title for s in reading.sightings]
    assert titles[-1] == "天象·刚柔并济的双星" and len(titles) == 7
    assert [str(p) for p in reading.problems] == [
        "content.html:53: warning: page cut inside the last link '相对论、对称': entry skipped",
        "content.html:50: warning: 2012年 claims 1 articles, 0 found",
        "content.html:53: warning: page ends before </html>: truncated archive list: later years may be missing",
    ]


def test_sidebar_and_comment_links_are_not_entries() -> None:
    _, reading = read_text((HTML / "content.html").read_text(encoding="utf-8"), "content.html")
    assert all("#comment" not in (s.url or "") for s in reading.sightings)
    assert "苏剑林" not in [s.title for s in reading.sightings]
