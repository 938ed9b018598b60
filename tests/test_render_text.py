"""Excerpt to HTML (Markdown with math protected, raw HTML off), labels, citations, search data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

import pytest

from kexue_archive.records import Article
from kexue_archive.site_search import fold_data, item, item_line, js_literal, shard_lines, shard_script
from kexue_archive.site_text import bibtex, clean, date_label, excerpt_html, opening_html


@dataclass(frozen=True)
class Formula:
    html: str
    ok: bool = True


def marks(n: int) -> list[Formula]:
    return [Formula(f"<M{i}/>") for i in range(n)]


def test_formulas_are_kept_away_from_markdown() -> None:
    text = "设 $a_1*b_2*c$ 与 $x_*$ 相等。\n\n\\begin{equation}y_1 = *z*_2\\end{equation}\n\n*强调*"
    html = str(excerpt_html(text, marks(3)))
    assert html == "<p>设 <M0/> 与 <M1/> 相等。</p>\n<p><M2/></p>\n<p><em>强调</em></p>"


def test_raw_html_in_an_excerpt_comes_out_escaped() -> None:
    text = '<script>alert(1)</script> <span style="color:red">红</span>\n\n<div onclick="x()">块</div>'
    html = str(excerpt_html(text, []))
    assert "<script" not in html and "<span" not in html and "<div" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;span style=" in html and "&lt;div onclick=" in html


@pytest.mark.parametrize(
    "text",
    ["[点我](javascript:alert(1))", "![图](http://evil.example/x.png)", "<http://evil.example/>", "<a@b.example>",
     "[x][r]\n\n[r]: javascript:alert(1)"],
)
def test_links_and_images_are_not_made(text: str) -> None:
    html = str(excerpt_html(text, []))
    assert "<a" not in html and "<img" not in html and "href" not in html and "src=" not in html


def test_character_references_are_shown_literally() -> None:
    html = str(excerpt_html("&#0; &amp; &lt;b&gt; `a&b<c`", []))
    assert html == "<p>&amp;#0; &amp;amp; &amp;lt;b&amp;gt; <code>a&amp;b&lt;c</code></p>"


def test_escaped_dollar_is_a_dollar_and_placeholders_cannot_be_forged() -> None:
    html = str(excerpt_html("价格 \\$5，\ue0000\ue001 与 $x$", marks(1)))
    assert html == "<p>价格 $5，0 与 <M0/></p>"


def test_missing_rendered_math_falls_back_to_escaped_tex() -> None:
    html = str(excerpt_html("看 $a<b$ 和 $c$", marks(1)))
    assert '<M0/>' in html and '<code class="math-error">$c$</code>' in html
    html = str(excerpt_html("$<script>$", []))
    assert '<code class="math-error">$&lt;script&gt;$</code>' in html


def test_opening_stops_before_display_math_and_escapes() -> None:
    text = "开头 <b> $x$ 之后\n\n$$y$$\n\n更多"
    assert str(opening_html(text, marks(2))) == "开头 &lt;b&gt; <M0/> 之后…"
    assert str(opening_html("短", [])) == "短"
    long = "长" * 500
    assert str(opening_html(long, [], limit=10)) == "长" * 10 + "…"


def test_clean_keeps_length_and_drops_what_html_forbids() -> None:
    text = "a\0b\x01c\x7f\ufdd0\ufffe\n\t"
    out = clean(text)
    assert len(out) == len(text) and out == "a\ufffdb\ufffdc\ufffd\ufffd\ufffd\n\t"


@pytest.mark.parametrize(
    ("date", "label"),
    [("2024-04-23", "2024年4月23日"), ("--12-11", "12月11日（年份不详）"), (None, "日期不详"), ("2009-10-31", "2009年10月31日")],
)
def test_date_labels(date: str | None, label: str) -> None:
    assert date_label(date) == label


def test_bibtex_follows_the_blogs_citation() -> None:
    text = bibtex("1d68e6381e68", "生成扩散模型漫谈(二十四):少走捷径,更快到达", "苏剑林", "2024-04-23", "https://kexue.fm/archives/10077")
    assert text.splitlines() == [
        "@online{kexuefm-10077,",
        "        title={生成扩散模型漫谈(二十四):少走捷径,更快到达},",
        "        author={苏剑林},",
        "        year={2024},",
        "        month={Apr},",
        "        url={\\url{https://kexue.fm/archives/10077}},",
        "}",
    ]
    odd = bibtex("abcd", "a}b{\nc", None, "--12-11", None)
    assert "title={a\\}b\\{ c}," in odd and "year" not in odd and odd.startswith("@online{kexuefm-abcd,")


def test_js_literal_cannot_break_out_of_a_script() -> None:
    data = {"t": "</script><script>alert(1)</script><!-- & \u2028\u2029"}
    text = js_literal(data)
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == data


def _article(excerpt: str) -> Article:
    from kexue_archive.tex import scan

    return Article(id="abcd12345678", title="t", author="苏剑林", date="2024-01-01", readers=3, excerpt=excerpt,
                   math=scan(excerpt).math, url=None, sources=(), flags=())


def test_index_rebuilds_the_math_field_from_offsets() -> None:
    text = "设 $a_1$ 与\n\n$$\\frac{1}{2}$$ 以及 \\begin{equation}x\\end{equation}"
    found = item(_article(text))
    offsets = found[6]
    math = "\n".join(found[5][offsets[k]:offsets[k + 1]] for k in range(0, len(offsets), 2))
    assert math == "a_1\n\\frac{1}{2}\n\\begin{equation}x\\end{equation}"


def test_a_shard_holds_one_item_a_line_and_gives_them_back() -> None:
    tricky = _article("第一行\n\n第二行,\n</script><!-- $a_1$ \u2028")
    lines = [item_line(replace(tricky, id=aid)) for aid in ("b000", "a000", "c000")]
    script = shard_script(lines)
    assert script.count("\n") == 5 and "<" not in script and "\u2028" not in script
    back = shard_lines(script)
    assert back is not None and list(back) == ["a000", "b000", "c000"]
    assert shard_script(list(back.values())) == script
    assert shard_lines(shard_script([])) == {}
    assert shard_lines("window.X=1;") is None


def test_fold_data_agrees_with_the_search_module() -> None:
    from kexue_archive import analysis

    data = fold_data()
    assert data["t2s"]["擴"] == "扩"
    # the page's cheap formula plus the exceptions reproduce analysis.fold for every sample
    import unicodedata

    def page_fold(s: str) -> str:
        out = []
        for c in s:
            if c in data["exceptions"]:
                out.append(data["exceptions"][c])
            else:
                out.append("".join(data["t2s"].get(ch, ch) for ch in unicodedata.normalize("NFKC", c).lower()))
        return "".join(out)

    sample = "擴散模型 ＬｏＲＡ Straße ǅ ﬁ Σς \u200b\u00ad\x00\n\u3000 乾隆 ①②"
    assert page_fold(sample) == analysis.fold(sample)


@pytest.mark.parametrize(
    ("url", "href"),
    [("https://kexue.fm/archives/9938", "https://kexue.fm/archives/9938"),
     ('https://kexue.fm/archives/1"><b>', "https://kexue.fm/archives/1%22%3E%3Cb%3E"),
     ("https://kexue.fm/中文 x", "https://kexue.fm/%E4%B8%AD%E6%96%87%20x"),
     ("https://kexue.fm/a%zz%20b", "https://kexue.fm/a%25zz%20b"),
     ("javascript:alert(1)", None), ("JAVASCRIPT://x", None), ("data:text/html,x", None), ("http:// x", None), (None, None)],
)
def test_only_web_urls_become_links_and_they_are_valid(url: str | None, href: str | None) -> None:
    from kexue_archive.site_pages import web_url

    assert web_url(url) == href
