"""The same site over http:// from a sub-path of a web server: every link is relative."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def base_url(site: Path) -> Iterator[str]:
    """The site's parent folder served on loopback, so the site lives under /<name>/."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site.parent)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{site.name}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_site_works_under_a_sub_path(base_url: str, browser: Any) -> None:
    page = browser.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(base_url) else foreign.append(r.url))
    try:
        page.goto(base_url + "index.html")
        page.locator("ol.cards li.card h2 a").first.click()
        page.wait_for_url(base_url + "articles/*.html")
        page.fill("#top-q", "模型")
        page.press("#top-q", "Enter")
        page.wait_for_selector("#results li.card")
        page.locator("nav a", has_text="系列").click()
        page.wait_for_url(base_url + "series/index.html")
        page.locator("main li a").first.click()
        page.wait_for_url(base_url + "series/*.html")
        expect(page.locator("ol.cards li.card").first).to_be_visible()
    finally:
        page.close()
    assert errors == [] and foreign == []
