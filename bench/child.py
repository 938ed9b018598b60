"""What the harness runs in a fresh process, one measurement per process.

    python -m bench.child build SEEDS ARCHIVE SITE OUT.json [--full]
        the real ``kexue-archive build`` (cli.main), with the BuildResult it
        produced written to OUT.json (records, pages, and ``timings`` if the
        build reports per-stage timings)
    python -m bench.child staged SEEDS ARCHIVE SITE OUT.json
        the pipeline's stages called one by one on fresh folders, each timed:
        parse+merge (archive only), index, math (cold cache), render (warm)
    python -m bench.child index ARCHIVE OUT.json
        build the search index of an archive (when the build does not)
    python -m bench.child search ARCHIVE QUERIES.json REPS OUT.json
        warm in-process query latencies

Why a process each: peak RSS and start-up cost belong to the measurement, and
no run may profit from another's warm imports or caches.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _dump(out: Path, data: dict[str, Any]) -> None:
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _result_dict(result: Any) -> dict[str, Any]:
    site = getattr(result, "site", None)
    timings = getattr(result, "timings", None)
    return {
        "records": result.records, "new_dumps": result.new_dumps, "written": result.written,
        "seconds": result.seconds, "pages": getattr(site, "pages", None), "rendered": getattr(site, "rendered", None),
        "timings": dict(timings) if timings else None,
    }


def cmd_build(seeds: Path, root: Path, site: Path, out: Path, full: bool) -> int:
    from kexue_archive import build as build_module
    from kexue_archive.cli import main

    real = build_module.build
    seen: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        seen.append(result)
        return result

    build_module.build = spy  # cli imports build at call time, so it calls the spy
    argv = ["build", "--seeds", str(seeds), "--archive", str(root), "--site", str(site), "-q"]
    code = main([*argv, "--full"] if full else argv)
    _dump(out, {"exit": code, **(_result_dict(seen[-1]) if seen else {})})
    return code


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def cmd_staged(seeds: Path, root: Path, site: Path, out: Path) -> int:
    from kexue_archive.archive import load_articles
    from kexue_archive.build import build

    times: dict[str, float | None] = {}
    times["parse+merge"], result = _timed(lambda: build(seeds, root))
    times["load"], articles = _timed(lambda: load_articles(root))
    try:
        from kexue_archive.index import index_articles
    except ImportError:
        times["index"] = None
    else:
        times["index"], _ = _timed(lambda: index_articles(root, articles))
    try:
        from kexue_archive.render import render_site
        from kexue_archive.site_math import render_math
    except ImportError:
        times["math"] = times["render"] = None
    else:
        cache = root / ".cache" / "math"
        times["math"], _ = _timed(lambda: render_math([a for a in articles if a.math], cache))
        times["render"], _ = _timed(lambda: render_site(site, articles, cache_dir=cache))
    _dump(out, {"records": result.records, "stages": times})
    return 0


def cmd_index(root: Path, out: Path) -> int:
    from kexue_archive.archive import load_articles
    from kexue_archive.index import index_articles

    seconds, _ = _timed(lambda: index_articles(root, load_articles(root)))
    _dump(out, {"seconds": seconds})
    return 0


def cmd_search(root: Path, queries: list[str], out: Path, reps: int) -> int:
    from kexue_archive.index import search

    for q in queries:  # warm-up: open the index, fill the OS and Python caches
        search(root, q, limit=10)
    samples: dict[str, list[float]] = {q: [] for q in queries}
    for _ in range(reps):
        for q in queries:
            started = time.perf_counter()
            search(root, q, limit=10)
            samples[q].append(time.perf_counter() - started)
    _dump(out, {"samples": samples})
    return 0


def main(argv: list[str]) -> int:
    command, *rest = argv
    if command == "build":
        seeds, root, site, out = map(Path, rest[:4])
        return cmd_build(seeds, root, site, out, "--full" in rest[4:])
    if command == "staged":
        seeds, root, site, out = map(Path, rest[:4])
        return cmd_staged(seeds, root, site, out)
    if command == "index":
        return cmd_index(Path(rest[0]), Path(rest[1]))
    if command == "search":
        queries = json.loads(Path(rest[1]).read_text(encoding="utf-8"))
        return cmd_search(Path(rest[0]), queries, Path(rest[3]), int(rest[2]))
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
