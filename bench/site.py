"""The static site at scale: render times, search-index size, in-page search latency.

    python -m bench.site [N ...]          (default: 1000 10000)

For each N: a generated corpus (bench.corpus) is built into an archive, then
the site is rendered cold (no math cache), again with nothing changed, and
again after one record changed; sizes of the search data are reported raw
and gzipped; Chromium (if installed) loads search.html from file:// and
times the first query (which folds the whole index) and warm queries.
"""

from __future__ import annotations

import gzip
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.corpus import generate
from kexue_archive.archive import load_articles
from kexue_archive.build import build
from kexue_archive.render import render_site
from kexue_archive.site_state import look, unchanged

QUERIES = ["扩散模型", "熵", "外推", "LoRA 梯度", "模型 -扩散", "\\frac", "transformer", "概率 OR 梯度", "擴散", "title:漫谈"]


def _kb(n: int) -> str:
    return f"{n / 1024:,.0f} KiB"


def bench(n: int, work: Path) -> None:
    seeds, root, site = work / "seeds", work / "archive", work / "site"
    generate(n, seeds)
    build(seeds, root)
    articles = load_articles(root)
    cache = work / "math-cache"

    t = time.perf_counter()
    cold = render_site(site, articles, cache_dir=cache)
    cold_s = time.perf_counter() - t
    t = time.perf_counter()
    noop = render_site(site, articles, cache_dir=cache, key="bench")
    noop_s = time.perf_counter() - t
    t = time.perf_counter()
    assert unchanged(look(site), "bench") is not None
    check_s = time.perf_counter() - t
    changed = [replace(a, readers=(a.readers or 0) + 1) if i == len(articles) // 2 else a for i, a in enumerate(articles)]
    t = time.perf_counter()
    one = render_site(site, changed, cache_dir=cache)
    one_s = time.perf_counter() - t

    index = b"".join(js.read_bytes() for js in sorted((site / "assets/search").glob("*.js")))  # the shards
    fold = (site / "assets/fold.js").read_bytes()
    total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    print(f"N={n}: {cold.pages} pages, site {_kb(total)}")
    print(f"  render cold {cold_s:.2f}s ({cold.pages / cold_s:,.0f} pages/s, math included); "
          f"no-op {noop_s:.2f}s ({noop.rendered} drawn; the build's up-to-date check instead: {check_s:.3f}s); "
          f"one record changed {one_s:.2f}s ({one.rendered} drawn)")
    print(f"  search data (assets/search/*.js) {_kb(len(index))} ({_kb(len(gzip.compress(index)))} gzipped, "
          f"{len(index) / len(articles):,.0f} B/article); fold.js {_kb(len(fold))} ({_kb(len(gzip.compress(fold)))} gzipped)")
    browser_times(site)


def browser_times(site: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("  (no chromium: in-page search not timed)")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = b.new_page()
        t = time.perf_counter()
        page.goto((site / "search.html").as_uri())
        page.wait_for_function("window.KexueSearch !== undefined")
        load = time.perf_counter() - t
        first = page.evaluate("q => { const t = performance.now(); window.KexueSearch.search({q, year: '', sort: 'relevance'});"
                              " return performance.now() - t; }", QUERIES[0])
        warm = [page.evaluate("q => { const t = performance.now(); window.KexueSearch.search({q, year: '', sort: 'date'});"
                              " return performance.now() - t; }", q) for q in QUERIES * 3]
        b.close()
    warm.sort()
    print(f"  in-page search: page load {load * 1000:.0f} ms; first query {first:.0f} ms (folds the index); "
          f"warm p50 {statistics.median(warm):.1f} ms, p95 {warm[int(len(warm) * 0.95) - 1]:.1f} ms")


def main(argv: list[str]) -> None:
    sizes = [int(x) for x in argv] or [1000, 10000]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            bench(n, Path(tmp))


if __name__ == "__main__":
    main(sys.argv[1:])
