"""Hostile records: every title, excerpt, formula, id and URL comes out escaped, and nothing
is written outside the site folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from kexue_archive.records import Article, Source
from kexue_archive.render import render_site
from kexue_archive.tex import scan

XSS = '"><img src=x onerror=alert(1)>'
HOSTILE_TEX = [
    r"$</script><script>alert(1)</script>$",
    r"$\href{javascript:alert(1)}{点我}$",
    r"$\url{javascript:alert(2)}$",
    r"$\htmlStyle{background:url(http://evil.example/x)}{x}$",
    r"$\includegraphics{http://evil.example/x.png}$",
    r"\begin{equation}\def\a{\a\a}\a\end{equation}",
    r"$\rule{100000em}{100000em}$",
    "$" + XSS + "$",
]
ONE_MB = "长" * (1 << 20)


def _article(i: int, title: str | None, excerpt: str, **kw: object) -> Article:
    fields: dict[str, object] = {
        "id": f"h{i:011d}", "title": title, "author": "苏剑林", "date": "2024-01-0" + str(i % 9 + 1), "readers": i,
        "excerpt": excerpt, "math": scan(excerpt).math, "url": None,
        "sources": (Source(f"dump{i}.txt", i + 1, i),), "flags": (), "aliases": (),
    }
    fields.update(kw)
    return Article(**fields)  # type: ignore[arg-type]


def hostile() -> list[Article]:
    return [
        _article(0, "<script>alert('t')</script>", "<script>alert('e')</script> 正文 " + XSS),
        _article(1, XSS, "正文 $x$\n\n" + "\n\n".join(HOSTILE_TEX)),
        _article(2, "../../../etc/passwd", "../../x", url="javascript:alert(3)"),
        _article(3, "NUL\0 in\x01 title", "NUL\0 in excerpt\x08 $a\0b$", author="a\0b"),
        _article(4, "</script><!-- 标题 -->", ONE_MB + " $" + "x" * 100_000 + "$ " + ONE_MB),
        _article(5, "别名 <b>", "正文", aliases=("../../evil", "h99999999999")),
        _article(6, "坏编号", "正文", id="../../outside"),
        _article(7, "生成扩散模型漫谈(一):<img src=x onerror=alert(5)>", "系列", url="https://kexue.fm/archives/1\"><b>"),
        _article(8, "生成扩散模型漫谈(二):" + XSS, "系列 " + XSS, sources=(Source('"><img src=x>', 1, None),)),
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("hostile")
    site = base / "site"
    render_site(site, hostile())
    return base, site


OWN_SCRIPTS = {"site.js", "search.js", "fold.js", *(f"{n:02d}.js" for n in range(32))}


def test_nothing_is_written_outside_the_site(rendered: tuple[Path, Path]) -> None:
    base, site = rendered
    assert [p.name for p in base.iterdir()] == ["site"]
    assert not list(site.rglob("*passwd*")) and not list(site.rglob("*outside*")) and not list(site.rglob("*evil*"))
    names = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert all(n.count("/") <= 1 and ".." not in n for n in names)


def test_every_page_is_escaped(rendered: tuple[Path, Path]) -> None:
    _, site = rendered
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        raw = page.read_bytes()
        assert b"\0" not in raw and b"\x01" not in raw, page
        soup = BeautifulSoup(raw, "lxml")
        assert not soup.find_all(["img", "iframe", "object", "embed"]), page
        for script in soup.find_all("script"):
            assert script.get("src", "").rsplit("/", 1)[-1] in OWN_SCRIPTS and not script.string, page
        for tag in soup.find_all(True):
            assert not [a for a in tag.attrs if a.startswith("on")], (page, tag)
            href = tag.get("href")
            if href is not None and not (tag.name == "link" and href == "data:,"):  # the empty favicon
                assert not href.lower().startswith(("javascript:", "data:", "vbscript:")), (page, href)
                assert href.startswith(("../", "#", "https://kexue.fm/")) or "/" not in href.split("#")[0] \
                    or href.startswith(("articles/", "series/", "assets/", "page/", "content/")), (page, href)
            if tag.get("style") is not None:
                assert tag.find_parent(class_="katex"), (page, tag)


def test_hostile_text_is_shown_as_text(rendered: tuple[Path, Path]) -> None:
    _, site = rendered
    page = (site / "articles/h00000000000.html").read_text()
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#39;e&#39;)&lt;/script&gt;" in page or "&lt;script&gt;alert('e')&lt;/script&gt;" in page
    page = (site / "articles/h00000000001.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    page = (site / "articles/h00000000002.html").read_text()
    assert "javascript:alert(3)" not in BeautifulSoup(page, "lxml").find("main").decode().split("<pre")[0]


def test_a_one_megabyte_line_is_rendered(rendered: tuple[Path, Path]) -> None:
    _, site = rendered
    page = (site / "articles/h00000000004.html").read_text()
    assert page.count("长") >= 2 * len(ONE_MB)
    assert '<code class="math-error">' in page  # 100k-character formula is refused, shown as TeX


def test_unsafe_ids_get_no_page_but_a_problem(rendered: tuple[Path, Path]) -> None:
    _, site = rendered
    quality = (site / "quality.html").read_text()
    assert "is not a safe file name" in quality and "../../outside" in quality
    assert (site / "articles/h99999999999.html").exists()  # a well-formed alias gets its redirect


def test_search_index_cannot_break_out(rendered: tuple[Path, Path]) -> None:
    _, site = rendered
    shards = sorted((site / "assets/search").glob("*.js"))
    assert len(shards) == 32
    for path in [*shards, site / "assets/fold.js"]:
        text = path.read_text()
        assert "<" not in text and ">" not in text and "\u2028" not in text
    assert any("\\u003c/script\\u003e\\u003c!--" in path.read_text() for path in shards)
