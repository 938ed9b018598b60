"""The site renderer on the real seeds: the page plan, incremental renders, byte-identical output."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest

from kexue_archive.archive import load_articles
from kexue_archive.records import Article, Problem
from kexue_archive.render import render_site, safe_target
from kexue_archive.series import detect
from kexue_archive.site_layout import NEWEST, month_of
from kexue_archive.site_pages import date_order, plan
from kexue_archive.site_state import STATE


@pytest.fixture(scope="module")
def articles(seeds_archive: Path) -> list[Article]:
    return load_articles(seeds_archive)


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` and the digest of its bytes."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# -- the plan ----------------------------------------------------------------------

def test_plan_has_every_page_the_site_needs(articles: list[Article]) -> None:
    pages = {p.path: p for p in plan(articles)}
    for a in articles:
        assert pages[f"articles/{a.id}.html"].template == "article.html"
    ordered = sorted(articles, key=date_order)
    assert [item["id"] for item in pages["index.html"].context["items"]] == [a.id for a in ordered[:NEWEST]]
    months = [p for p in pages if p.startswith("page/")]
    assert sorted(months) == sorted({f"page/{month_of(a.date)}.html" for a in articles})
    # every article appears on exactly one month page, newest first, months newest first, undated last
    by_month = sorted(months, key=lambda p: [m for m in pages if m.startswith("page/")].index(p))
    listed = [item["id"] for p in by_month for item in pages[p].context["items"]]
    assert listed == [a.id for a in ordered]
    assert by_month[-1] == "page/undated.html"
    # every article appears on exactly one year page
    years = [item["id"] for p in pages if p.startswith("content/")
             for m in pages[p].context["months"] for item in m["entries"]]
    years += [item["id"] for p in pages if p.startswith("content/") for item in pages[p].context["undated"]]
    assert sorted(years) == sorted(a.id for a in articles)
    assert {"content.html", "popular.html", "search.html", "series/index.html"} <= set(pages)
    for s in detect(articles):
        assert f"series/{s.id}.html" in pages


def test_plan_is_pure_and_order_independent(articles: list[Article]) -> None:
    shuffled = articles[:]
    random.Random(4).shuffle(shuffled)
    assert plan(shuffled) == plan(articles)


def test_article_context_links_neighbours_and_series(articles: list[Article]) -> None:
    pages = {p.path: p for p in plan(articles)}
    ordered = sorted(articles, key=date_order)
    for i, a in enumerate(ordered):
        ctx = pages[f"articles/{a.id}.html"].context
        assert (ctx["newer"] or {}).get("id") == (ordered[i - 1].id if i else None)
        assert (ctx["older"] or {}).get("id") == (ordered[i + 1].id if i + 1 < len(ordered) else None)
    by_title = {a.title: a for a in articles}
    vae5 = pages[f"articles/{by_title['变分自编码器(五):VAE + BN = 更好的VAE'].id}.html"].context["series"]
    assert vae5["name"] == "变分自编码器" and vae5["number"] == 5
    assert vae5["prev"] is None and vae5["next"]["title"] == "变分自编码器(八):估计样本概率密度"


def test_year_unknown_dates_read_as_such(articles: list[Article]) -> None:
    pages = {p.path: p for p in plan(articles)}
    untitled = next(a for a in articles if a.date == "--12-11")
    assert pages[f"articles/{untitled.id}.html"].context["a"]["label"] == "12月11日（年份不详）"


def test_aliases_get_redirect_pages(articles: list[Article], tmp_path: Path) -> None:
    a = articles[0]
    renamed = [replace(a, aliases=("u0123456789a",)), *articles[1:]]
    render_site(tmp_path, renamed)
    page = (tmp_path / "articles/u0123456789a.html").read_text()
    assert f'url={a.id}.html"' in page and f'href="{a.id}.html"' in page


# -- writing -------------------------------------------------------------------------

def test_same_archive_gives_byte_identical_site(articles: list[Article], tmp_path: Path) -> None:
    problems = [Problem("001.txt", 2, "warning", "a <b>problem</b>")]
    one = render_site(tmp_path / "one", articles, problems)
    shuffled = articles[::-1]
    two = render_site(tmp_path / "two", shuffled, problems, full=True)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert one.pages == two.pages and one.math_errors == 0


def test_second_render_writes_nothing_and_changes_touch_only_their_pages(articles: list[Article], tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = render_site(site, articles)
    assert first.rendered == first.pages
    again = render_site(site, articles)
    assert (again.rendered, again.written, again.removed) == (0, 0, 0)

    target = sorted(articles, key=date_order)[-1]  # the oldest: on the last month page, not on index.html
    changed = [replace(a, readers=(a.readers or 0) + 1) if a.id == target.id else a for a in articles]
    before = tree(site)
    third = render_site(site, changed)
    after = tree(site)
    touched = {p for p in after if before.get(p) != after[p] and not p.startswith("assets/search/")} - {STATE}
    assert f"articles/{target.id}.html" in touched
    assert "index.html" not in touched
    assert third.rendered < third.pages // 2

    gone = [a for a in changed if a.id != target.id]
    fourth = render_site(site, gone)
    assert fourth.removed == 1 and not (site / f"articles/{target.id}.html").exists()
    assert tree(site) == tree_of_fresh(tmp_path / "fresh", gone)


def tree_of_fresh(site: Path, articles: list[Article]) -> dict[str, str]:
    render_site(site, articles)
    return tree(site)


def test_a_deleted_page_is_drawn_again(articles: list[Article], tmp_path: Path) -> None:
    render_site(tmp_path, articles)
    (tmp_path / "content.html").unlink()
    result = render_site(tmp_path, articles)
    assert result.rendered == 1 and (tmp_path / "content.html").exists()


@pytest.mark.parametrize("bad", ["../x.html", "a/../../x.html", "/etc/passwd", "a b.html", "a\0.html", "", "x/.."])
def test_safe_target_refuses_paths_leaving_the_site(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        safe_target(tmp_path, bad)


def test_safe_target_refuses_symlinked_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    site = tmp_path / "site"
    site.mkdir()
    (site / "articles").symlink_to(outside)
    with pytest.raises(ValueError):
        safe_target(site, "articles/abcd1234.html")


def test_unchanged_only_when_records_program_and_pages_match(articles: list[Article], tmp_path: Path) -> None:
    import shutil

    from kexue_archive.site_state import TEMPLATES, look, unchanged

    def up_to_date(site: Path, key: str, templates: Path) -> bool:
        return unchanged(look(site, templates), key) is not None

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    site = tmp_path / "site"
    assert not up_to_date(site, "k1", templates)
    first = render_site(site, articles, templates=templates, key="k1")
    assert up_to_date(site, "k1", templates)
    same = unchanged(look(site, templates), "k1")
    assert same is not None and (same.pages, same.rendered, same.index_bytes) == (first.pages, 0, first.index_bytes)
    assert not up_to_date(site, "k2", templates)
    (site / "popular.html").unlink()
    assert not up_to_date(site, "k1", templates)
    render_site(site, articles, templates=templates, key="k1")
    assert up_to_date(site, "k1", templates)
    (templates / "base.html").write_text((templates / "base.html").read_text() + "\n")
    assert not up_to_date(site, "k1", templates)
    redrawn = render_site(site, articles, templates=templates, key="k1")
    assert redrawn.rendered == redrawn.pages  # a template change redraws every page


def test_series_pages_list_members_in_order_and_say_what_is_missing(articles: list[Article], tmp_path: Path) -> None:
    pages = {p.path: p for p in plan(articles)}
    diffusion = next(p for path, p in pages.items() if path.startswith("series/s") and p.context["name"] == "生成扩散模型漫谈")
    members = diffusion.context["members"]
    assert [m["number"] for m in members] == [2, 24]
    assert [m["gap"] for m in members] == [[1, 1], [3, 23]]
    render_site(tmp_path, articles)
    html = (tmp_path / diffusion.path).read_text()
    assert "第1篇不在存档中" in html and "第3–23篇不在存档中" in html
    assert html.index("生成扩散模型漫谈(二)") < html.index("生成扩散模型漫谈(二十四)")


def test_the_build_command_renders_the_site(tmp_path: Path) -> None:
    from support import SEEDS, run_cli

    args = ("build", "--seeds", str(SEEDS), "--archive", str(tmp_path / "archive"), "--site", str(tmp_path / "site"))
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "site/index.html").is_file() and (tmp_path / "site/assets/katex/katex.min.css").is_file()
    pages = len(list((tmp_path / "site").rglob("*.html")))
    assert f"site: {pages}/{pages} pages drawn, 0 formulas shown as TeX" in first.stdout
    before = tree(tmp_path / "site")
    second = run_cli(*args)
    assert f"site: 0/{pages} pages drawn" in second.stdout
    assert tree(tmp_path / "site") == before
    full = run_cli(*args, "--full")
    assert full.returncode == 0 and tree(tmp_path / "site") == before


def test_no_template_reads_a_dict_method() -> None:
    """render._Environment looks ``x.key`` up as a key first on dicts (page contexts): a template
    calling a dict method by attribute (``x.items()``) would get a context value of that name."""
    from kexue_archive.site_state import TEMPLATES

    methods = "|".join(name for name in dir(dict) if not name.startswith("_"))
    for template in sorted(TEMPLATES.glob("*.html")):
        assert not re.findall(rf"\.(?:{methods})\b", template.read_text(encoding="utf-8")), template.name
