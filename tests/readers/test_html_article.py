"""Article pages (/archives/NNNN) of the live blog, against facts typed in by hand.

Each fixture is a full Typecho page (head, nav, comments, sidebar, scripts, the
reprint notice, #pay, #how_to_cite with its BibTeX). The expectations below were
written from reading the fixtures; the golden files pin every other byte.
"""

from __future__ import annotations

from typing import Any

import pytest
from golden_support import FIXTURES, check_golden, excerpt_paragraphs, ledger
from support import SEEDS

from kexue_archive.records import Math
from kexue_archive.tex import scan
from kexue_archive.text import squash

HTML = FIXTURES / "html"
ARTICLES = [*sorted(p.name for p in HTML.glob("article-*.html")), "garbage.html"]
#: Never article text: the page furniture around #PostContent and its tail.
BOILERPLATE = (
    "转载到请包括本文地址", "更详细的转载事宜", "如果您还有什么疑惑", "打赏", "如果您需要引用", "@online", "kexuefm-",
    "Retrieved from", "最近评论", "随机文章", "发表你的看法", "分类：", "标签：", "By 苏剑林", "位读者", "MathJax.Hub",
    "科学空间|Scientific Spaces", "上一篇", "zhangsan", "hm.baidu.com", "Powered by", "点击阅读全文",
)
LION_EQUATION = "\n".join(
    [
        r"\begin{equation}\text{Lion}:=\left\{\begin{aligned}",
        r"&\boldsymbol{u}_t = \text{sign}\big(\beta_1 \boldsymbol{m}_{t-1} + \left(1 - \beta_1\right) \boldsymbol{g}_t\big) \\",
        r"&\boldsymbol{\theta}_t = \boldsymbol{\theta}_{t-1} - \eta_t (\boldsymbol{u}_t \color{skyblue}{ + \lambda_t \boldsymbol{\theta}_{t-1}}) \\",
        r"&\boldsymbol{m}_t = \beta_2 \boldsymbol{m}_{t-1} + \left(1 - \beta_2\right) \boldsymbol{g}_t",
        r"\end{aligned}\right.\end{equation}",
    ]
)


def only(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    got = ledger(HTML / name)
    assert got["kind"] == "html-article"
    assert len(got["sightings"]) == 1, got["sightings"]
    return got, got["sightings"][0]


def messages(got: dict[str, Any]) -> list[str]:
    return [f"{p['line']}: {p['severity']}: {p['message']}" for p in got["problems"]]


@pytest.mark.parametrize("name", ARTICLES)
def test_golden(name: str) -> None:
    check_golden(HTML / name)


@pytest.mark.parametrize("name", sorted(p.name for p in HTML.glob("article-*.html")))
def test_no_page_furniture_in_the_excerpt(name: str) -> None:
    _, s = only(name)
    for junk in BOILERPLATE:
        assert junk not in s["excerpt"], (name, junk)


def test_lion_fields() -> None:
    got, s = only("article-lion.html")
    assert (s["line"], s["title"], s["author"], s["date"], s["readers"]) == (
        41, "Google新搜出的优化器Lion：效率与效果兼得的“训练狮”", "苏剑林", "2023-02-16", 53107)
    assert s["url"] == "https://spaces.ac.cn/archives/9473"  # the kexue.fm link, canonicalised
    assert s["flags"] == []
    assert got["problems"] == []
    assert s["excerpt"].startswith("昨天在Arixv上发现了Google新发的一篇论文《Symbolic Discovery of Optimization Algorithms》，主要是讲")
    assert s["excerpt"].endswith("它在多数任务上都有着不逊色于甚至优于AdamW的表现。")


def test_lion_tex_is_verbatim() -> None:
    _, s = only("article-lion.html")
    text = s["excerpt"]
    assert LION_EQUATION in text  # <br /> became newlines, &amp; became &, nothing else touched
    assert r"\right.\label{eq:adamw}\end{equation}" in text
    assert "$0 < \\beta_1 < \\beta_2 < 1$" in text  # &lt; is the TeX's own <
    found = scan(text)
    assert found.unbalanced == ()
    assert found.math[0] == Math(LION_EQUATION, display=True)
    assert found.math[1] == Math(r"\boldsymbol{g}_t = \nabla_{\boldsymbol{\theta}} L(\boldsymbol{\theta}_{t-1})", display=False)


def test_lion_equation_matches_the_seed_dump() -> None:
    """The text dump of the same article (seed 001) shows the same formula, line for line."""
    seed = (SEEDS / "001_21cf883cf368c9e5.txt").read_text(encoding="utf-8").splitlines()
    assert "\n".join(seed[36:41]) == LION_EQUATION


def test_lion_structure() -> None:
    _, s = only("article-lion.html")
    paras = excerpt_paragraphs(s)
    assert "先说结果" in paras and "文章小结" in paras  # headings are paragraphs of their own
    assert paras.count("Lion与AdamW在各个任务上的效果对比") == 1  # caption once, from alt + caption text
    assert s["excerpt"].count("Lion与AdamW在各个任务上的效果对比") == 1
    assert "SignSGD：只保留梯度的符号；\nAdafactor：对二阶矩做低秩分解；\nLAMB：按层调整学习率。" in paras  # list as lines
    assert "def train(weight, gradient, momentum, lr):\n    update = interp(gradient, momentum, β1)" in s["excerpt"]
    assert "\n\n    weight_decay = weight * λ" in s["excerpt"]  # the code block is kept as written
    assert "Lion（EvoLved Sign Momentum，" in s["excerpt"]  # inline <strong> does not split words


def test_lion_excerpt_extends_the_seed_excerpt() -> None:
    """Full text from the page, the opening of the text dump: one is a prefix of the other (NFKC, spacing aside)."""
    seed = ledger(SEEDS / "001_21cf883cf368c9e5.txt")["sightings"][-1]
    _, page = only("article-lion.html")
    assert seed["title"] == "Google新搜出的优化器Lion:效率与效果兼得的“训练狮”"
    assert squash(page["excerpt"]).startswith(squash(seed["excerpt"]))
    assert len(page["excerpt"]) > 2 * len(seed["excerpt"])


def test_missing_title_is_not_guessed() -> None:
    got, s = only("article-vae8-no-title.html")
    assert s["title"] is None and s["flags"] == ["title-missing"]
    assert (s["author"], s["date"], s["readers"]) == ("苏剑林", "2021-12-09", 70213)
    assert s["url"] == "https://spaces.ac.cn/archives/8791"  # learnt from the reprint notice
    assert s["line"] == 35  # the by-line: the first thing of the article the page still shows
    assert messages(got) == ["34: warning: no title found ('.Post .title-wrap h1', <h1>, <title>): title unknown"]
    assert r"\label{eq:mle}\end{equation}" in s["excerpt"] and r"代入式$\eqref{eq:mle}$即得" in s["excerpt"]
    assert "1、用什么样的$q_{\\theta}(x)$去拟合；\n2、用什么方法去求解上述目标。" in excerpt_paragraphs(s)
    assert "lisi" not in s["excerpt"]  # the comment quoting eq:mle is not article text
    seed = ledger(SEEDS / "004_90563b16d9f48e18.txt")["sightings"][0]
    assert squash(s["excerpt"]).startswith(squash(seed["excerpt"]))


def test_missing_byline_leaves_author_date_readers_unknown() -> None:
    got, s = only("article-deepnet-no-byline.html")
    assert s["title"] == "为什么需要残差？一个来自DeepNet的视角"
    assert (s["author"], s["date"], s["readers"]) == (None, None, None)
    assert s["url"] == "https://spaces.ac.cn/archives/8994"
    assert messages(got) == [
        "34: warning: no by-line (By AUTHOR | YYYY-MM-DD | N位读者) or date box found: author, date and readers unknown"]
    assert excerpt_paragraphs(s)[2] == "增量爆炸"


def test_entity_escaped_title_is_text() -> None:
    _, s = only("article-escaped-title.html")
    assert s["title"] == "HTML转义小记：当标题里出现<script>标签时"  # unescaped once: the site escapes it again
    assert "page furniture" not in s["excerpt"]  # a <script> inside the body is not text
    assert "<h1>HTML转义小记：当标题里出现&lt;script&gt;标签时</h1>" in excerpt_paragraphs(s)  # code shows entities
    assert "把$<$写成&lt;，把$>$写成&gt;" in s["excerpt"]


def test_drifted_selectors_degrade_and_say_so() -> None:
    got, s = only("article-roformer-drifted.html")
    assert (s["title"], s["author"], s["date"], s["readers"]) == (
        "RoFormerV2：自然语言理解的极限探索", "苏剑林", "2022-03-21", 45821)
    assert s["url"] == "https://spaces.ac.cn/archives/8998"  # from a relative href
    assert excerpt_paragraphs(s)[0].startswith("大概在1年前，我们提出了旋转位置编码（RoPE）")
    assert excerpt_paragraphs(s)[-1] == "Github：https://github.com/ZhuiyiTechnology/roformer-v2"
    assert messages(got) == [
        "34: info: title not in '.Post .title-wrap h1'; read from 'article h1'",
        "37: warning: no '#PostContent'; body guessed as the <div.entry> holding most paragraphs",
        "35: info: by-line not in '.submitted'; read from the text that holds it",
    ]


def test_truncated_page_yields_what_it_has() -> None:
    got, s = only("article-lion-truncated.html")
    _, full = only("article-lion.html")
    assert s["flags"] == ["truncated", "unbalanced-math"]
    assert (s["title"], s["date"], s["readers"], s["url"]) == (full["title"], full["date"], full["readers"], full["url"])
    assert s["excerpt"].endswith(r"&\boldsymbol{v}_t = \beta_2 \boldsymbol{v}_{t-1} + \left(1 -")
    assert full["excerpt"].startswith(s["excerpt"])
    assert "57: warning: page ends before </html>: truncated inside the article body: excerpt incomplete" in messages(got)
    assert "55: warning: unbalanced math: '\\begin{equation}' is never closed" in messages(got)


def test_garbage_html_is_one_clear_problem() -> None:
    got = ledger(HTML / "garbage.html")
    assert got["sightings"] == []
    assert messages(got)[0] == "1: error: no article found: no title, by-line or body (#PostContent) in this page"
