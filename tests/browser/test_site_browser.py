"""The site in Chromium over file://: navigation, KaTeX laid out, search, read marks, no network."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

MATH_TITLE = "注意力和Softmax的两点有趣发现:鲁棒性和信息量"


def url(site: Path, rel: str) -> str:
    return (site / rel).as_uri()


def test_home_to_article_with_laid_out_math(site: Path, page: Any) -> None:
    page.goto(url(site, "index.html"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name=MATH_TITLE).click()
    page.wait_for_url("**/articles/*.html")
    assert page.locator("h1").inner_text() == MATH_TITLE
    display = page.locator(".katex-display .katex-html").first
    box = display.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 20
    inline = page.locator(".post-body p .katex .katex-html").last.bounding_box()
    assert inline and inline["width"] > 5 and inline["height"] > 5
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px KaTeX_Main')")
    assert page.evaluate("[...document.fonts].some(f => f.family.includes('KaTeX') && f.status === 'loaded')")
    assert page.locator(".katex-mathml math").count() >= 2  # MathML for screen readers
    assert page.locator(".math-error").count() == 0


def test_header_search_finds_chinese_and_opens_a_result(site: Path, page: Any) -> None:
    page.goto(url(site, "popular.html"))
    page.fill("#top-q", "扩散模型")
    page.press("#top-q", "Enter")
    page.wait_for_selector("#results li.card")
    expect(page).to_have_url(re.compile(r"search\.html#q="))
    hits = page.locator("#results li.card")
    assert hits.count() >= 2
    assert page.locator("#results mark").first.inner_text() == "扩散模型"
    first_title = hits.first.locator("h2 a").inner_text()
    hits.first.locator("h2 a").click()
    page.wait_for_url("**/articles/*.html")
    expect(page.locator("h1")).to_have_text(first_title)


def test_traditional_and_full_width_queries_fold(site: Path, page: Any) -> None:
    page.goto(url(site, "search.html") + "#q=" + "擴散模型")
    page.wait_for_selector("#results li.card")
    simplified = page.locator("#results li.card").count()
    assert page.locator("#results mark").first.inner_text() == "扩散模型"
    page.goto(url(site, "search.html") + "#q=" + "ＬｏＲＡ")
    page.wait_for_selector("#results li.card")
    assert "LoRA" in page.locator("#results mark").first.inner_text()
    assert simplified >= 2


def test_search_state_lives_in_the_hash(site: Path, page: Any) -> None:
    page.goto(url(site, "search.html") + "#q=%E6%A8%A1%E5%9E%8B&year=2023&sort=readers")
    page.wait_for_selector("#results li.card")
    assert page.input_value("#q") == "模型"
    assert page.input_value("#year") == "2023" and page.input_value("#sort") == "readers"
    metas = page.locator("#results .card-meta").all_inner_texts()
    assert metas and all(m.startswith("2023年") for m in metas)
    readers = [int(m.split("·")[1].split("位")[0].replace(",", "")) for m in metas]
    assert readers == sorted(readers, reverse=True)
    page.select_option("#sort", "date")
    expect(page).to_have_url(re.compile(r"sort=date"))
    page.fill("#q", "不可能出现的词组合")
    page.press("#q", "Enter")
    expect(page.locator("#search-status")).to_contain_text("没有找到")


def test_bad_query_says_so_without_errors(site: Path, page: Any) -> None:
    page.goto(url(site, "search.html") + '#q=%22unclosed')
    expect(page.locator("#search-status")).to_contain_text("无法理解")


def test_read_mark_survives_reload_and_shows_in_lists(site: Path, page: Any) -> None:
    page.goto(url(site, "index.html"))
    first = page.locator("ol.cards li.card").first
    article_id = first.get_attribute("data-id")
    assert "is-read" not in (first.get_attribute("class") or "")
    first.locator("h2 a").click()
    page.wait_for_url("**/articles/*.html")
    toggle = page.locator("button.read-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "true")  # opening it marked it read
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(toggle).to_have_attribute("aria-pressed", "false")  # the unmark survived
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.goto(url(site, "index.html"))
    entry = page.locator(f'li[data-id="{article_id}"]')
    expect(entry).to_have_class(re.compile(r"\bis-read\b"))
    page.check("input.hide-read")
    expect(entry).to_be_hidden()
    page.reload()
    expect(page.locator("input.hide-read")).to_be_checked()
    expect(entry).to_be_hidden()


def test_keyboard_reaches_the_skip_link_and_search_first(site: Path, page: Any) -> None:
    page.goto(url(site, "index.html"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))  # fragment navigation lands asynchronously
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "top-q"
    page.keyboard.type("熵")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results li.card")
    assert page.locator("#results mark").first.inner_text() == "熵"


def test_mobile_layout_does_not_scroll_sideways(site: Path, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        p = ctx.new_page()
        for rel in ("index.html", "search.html", "content.html"):
            p.goto(url(site, rel))
            assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), rel
        p.goto(url(site, "index.html"))
        p.get_by_role("link", name=MATH_TITLE).click()
        p.wait_for_url("**/articles/*.html")
        assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        ctx.close()


def test_dark_mode_follows_the_system(site: Path, browser: Any) -> None:
    ctx = browser.new_context(color_scheme="dark")
    try:
        p = ctx.new_page()
        p.goto(url(site, "index.html"))
        bg = p.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(22, 24, 28)"
    finally:
        ctx.close()
