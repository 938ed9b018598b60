"""In-page search timed in headless Chromium over file:// (Debian's chromium, never a downloaded one)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from bench.measure import median, percentile

#: Timed inside the page, so only the search itself counts (not Playwright's round trip).
_TIMED = """q => { const t = performance.now();
  window.KexueSearch.search({q, year: '', sort: 'relevance'});
  return performance.now() - t; }"""


def in_page_search(site: Path, queries: Sequence[str], reps: int = 3) -> dict[str, float | str | None]:
    """First-query and warm p50/p95 milliseconds of the site's own search, or why it could not be timed."""
    page_file = site / "search.html"
    chromium = shutil.which("chromium")
    if not page_file.exists():
        return {"note": "n/a (not built: no search.html)"}
    if chromium is None:
        return {"note": "n/a (no chromium on PATH)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"note": "n/a (playwright not installed)"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_function("window.KexueSearch !== undefined", timeout=60_000)
            first = float(page.evaluate(_TIMED, queries[0]))
            warm = [float(page.evaluate(_TIMED, q)) for _ in range(reps) for q in queries]
        except Exception as exc:  # the page's API may change under us: say so, do not crash the run
            return {"note": f"n/a (page error: {str(exc).splitlines()[0][:80]})"}
        finally:
            browser.close()
    return {"first_ms": first, "p50_ms": median(warm), "p95_ms": percentile(warm, 95)}
