"""``kexue-archive serve``: the site over HTTP, on the loopback address only."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kexue_archive.cli import main
from kexue_archive.errors import UserError
from kexue_archive.site_serve import HOST, server


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("<!DOCTYPE html><title>首页</title>", encoding="utf-8")
    (site / "assets/site.js").write_text("window.x=1;", encoding="utf-8")
    httpd = server(site, 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_serves_pages_and_assets_on_loopback(served: str) -> None:
    assert served.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(served + "/index.html", timeout=10) as r:
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "首页" in r.read().decode()
    with urllib.request.urlopen(served + "/assets/site.js", timeout=10) as r:
        assert r.headers["Content-Type"] == "text/javascript"


def test_nothing_outside_the_site_is_served(served: str, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(served + "/../secret.txt", timeout=10)
    assert err.value.code == 404


def test_missing_site_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UserError):
        server(tmp_path, 0)
    assert main(["serve", "--site", str(tmp_path / "nope")]) == 2
    assert "no site at" in capsys.readouterr().err
