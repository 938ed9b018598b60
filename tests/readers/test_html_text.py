"""The HTML-to-paragraphs walker shared by the article, listing and RSS readers."""

from __future__ import annotations

from kexue_archive.readers import read_text
from kexue_archive.readers.html_text import html_paragraphs, paragraphs, parse


def texts(html: str) -> list[tuple[int, str]]:
    soup = parse(html)
    root = soup.select_one("#PostContent")
    assert root is not None
    paras, _ = paragraphs(root)
    return [(p.line, p.text) for p in paras]


def test_br_is_a_newline_and_source_breaks_after_it_are_not_doubled() -> None:
    got = texts('<div id="PostContent">\n<p>为<br />\n\\begin{equation}x<br />\n&amp;y\\\\<br />\n\\end{equation}</p></div>')
    assert got == [(2, "为\n\\begin{equation}x\n&y\\\\\n\\end{equation}")]


def test_source_line_breaks_inside_a_formula_are_kept() -> None:
    got = texts('<div id="PostContent"><p>\\begin{equation}\n  a &lt; b\n\\end{equation}</p></div>')
    assert got == [(1, "\\begin{equation}\na < b\n\\end{equation}")]


def test_blocks_inline_runs_and_lines() -> None:
    html = (
        '<div id="PostContent">\n<h3>小节</h3>\n'
        "loose <em>inline</em> text\n"
        "<table><tr><th>模型</th><th>准确率</th></tr>\n<tr><td>BERT</td><td>90.1%</td></tr></table>\n"
        '<p><img src="a.png" alt="只有图"></p>\n'
        "<blockquote><p>一</p><p>二</p></blockquote>\n</div>"
    )
    assert texts(html) == [
        (2, "小节"), (3, "loose inline text"), (4, "模型 | 准确率\nBERT | 90.1%"), (6, "只有图"), (7, "一"), (7, "二")]


def test_tail_stops_the_body() -> None:
    soup = parse('<div id="PostContent"><p>正文</p><div id="pay"><p>打赏</p></div><p>之后</p></div>')
    root = soup.select_one("#PostContent")
    assert root is not None
    paras, reached = paragraphs(root)
    assert [p.text for p in paras] == ["正文"] and reached


def test_page_saved_after_mathjax_ran_keeps_its_tex() -> None:
    """MathJax 2 moves the TeX into script tags and adds rendered markup: keep the TeX, drop the rendering."""
    html = (
        '<div id="PostContent"><p>设<span class="MathJax_Preview">x</span><span class="MathJax" id="MathJax-Element-1-Frame">'
        '<span class="math">x</span></span><script type="math/tex" id="MathJax-Element-1">x_1</script>为实数，'
        '<script type="math/tex; mode=display">\\begin{equation}a=b\\end{equation}</script>'
        '<script type="math/tex; mode=display">c=d</script></p></div>'
    )
    assert texts(html) == [(1, "设$x_1$为实数，\\begin{equation}a=b\\end{equation}$$c=d$$")]


def test_fragment_lines_are_offset_into_the_feed() -> None:
    paras = html_paragraphs("<p>一</p>\n<p>二</p>", first_line=40)
    assert [(p.line, p.text) for p in paras] == [(40, "一"), (41, "二")]


def test_unbalanced_math_in_a_feed_is_reported_at_its_feed_line() -> None:
    feed = (
        '<?xml version="1.0"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>\n'
        "<item><title>T</title><link>https://kexue.fm/archives/1</link><pubDate>Mon, 01 Jan 2024 08:00:00 +0800</pubDate>\n"
        "<content:encoded><![CDATA[<p>好的$x$</p>\n<p>坏的$y</p>]]></content:encoded></item></channel></rss>"
    )
    _, reading = read_text(feed, "f.xml")
    assert reading.sightings[0].flags == ("unbalanced-math",)
    assert [str(p) for p in reading.problems] == ["f.xml:5: warning: unbalanced math: stray '$' with no closing '$'"]
