"""A real browser (Debian's Chromium, never a downloaded one) over a site rendered from the seeds.

In CI a missing browser fails the tests instead of skipping them: the site's promises
(math laid out, search, read marks, no network) can only be checked in a browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kexue_archive.archive import load_articles
from kexue_archive.render import render_site

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def site(seeds_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of the real seeds, rendered once."""
    out = tmp_path_factory.mktemp("browser") / "site"
    render_site(out, load_articles(seeds_archive))
    return out


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watch:
    """Console errors, page errors and every request that is not a file:// one."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.remote: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "about:")) else self.remote.append(r.url))


@pytest.fixture()
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context: Any) -> Iterator[Any]:
    """A page whose test fails on any console error or non-file request."""
    p = context.new_page()
    watch = Watch(p)
    p.watch = watch
    yield p
    assert watch.errors == [], watch.errors
    assert watch.remote == [], watch.remote
