"""What the harness runs in a fresh process, one measurement per process.

    python -m bench.child build SEEDS ARCHIVE SITE OUT.json [--full]
        the real ``kexue-archive build`` (cli.main), with the BuildResult it
        produced written to OUT.json (records, pages, ``timings`` if the build
        reports them) and stage times measured by wrapping the functions the
        build calls: index.updating, load_articles, render_site, render_math
    python -m bench.child index ARCHIVE OUT.json
        build the search index of an archive (when the build does not)
    python -m bench.child search ARCHIVE QUERIES.json REPS OUT.json
        warm in-process query latencies

Why a process each: peak RSS and start-up cost belong to the measurement, and
no run may profit from another's warm imports or caches.
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
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


#: This process's peak RSS (MB) when each stage ended: where the peak jumps is the stage to look at.
PEAKS: dict[str, float] = {}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _spy(module: Any, name: str, spent: dict[str, float], key: str) -> None:
    """Wrap ``module.name`` so the time spent in it adds up under ``key`` (no-op if it does not exist)."""
    real = getattr(module, name, None)
    if real is None:
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        PEAKS.setdefault("before " + key, _peak_mb())
        try:
            return real(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - started
            PEAKS["after " + key] = _peak_mb()

    setattr(module, name, timed)


def _spy_beside(module: Any, name: str, spent: dict[str, float], key: str) -> None:
    """Wrap the context manager ``module.name``, which yields a function to wait with: the time
    the build spends under ``key`` is entering it plus waiting (work done beside the build is not)."""
    real = getattr(module, name, None)
    if real is None:
        return

    def add(started: float) -> None:
        spent[key] = spent.get(key, 0.0) + time.perf_counter() - started

    @contextlib.contextmanager
    def timed(*args: Any, **kwargs: Any) -> Iterator[Callable[[], Any]]:
        started = time.perf_counter()
        PEAKS.setdefault("before " + key, _peak_mb())
        with real(*args, **kwargs) as wait:
            add(started)
            PEAKS["after " + key] = _peak_mb()  # (not after waiting: by then the site has been drawn)

            def waited() -> Any:
                begun = time.perf_counter()
                try:
                    return wait()
                finally:
                    add(begun)

            yield waited

    setattr(module, name, timed)


def _stage_spies() -> dict[str, float]:
    """Time the stages inside the real build by wrapping the functions it calls for them."""
    import importlib

    spent: dict[str, float] = {}
    targets = (("kexue_archive.archive", "load_articles", "load"),
               ("kexue_archive.render", "render_site", "site"), ("kexue_archive.render", "render_math", "math"))
    for module, name, key in targets:
        try:
            _spy(importlib.import_module(module), name, spent, key)
        except ImportError:
            continue
    _spy_beside(importlib.import_module("kexue_archive.index"), "updating", spent, "index")
    return spent


def _stages(result: Any, spent: dict[str, float]) -> dict[str, float | None]:
    """parse+merge is what the build spent outside the other stages."""
    site = spent.get("site")
    math = spent.get("math")
    outside = sum(spent.get(k, 0.0) for k in ("index", "load", "site"))
    return {
        "parse+merge": result.seconds - outside, "index": spent.get("index"), "load": spent.get("load"),
        "math": math, "render": None if site is None else site - (math or 0.0),
    }


def cmd_build(seeds: Path, root: Path, site: Path, out: Path, full: bool) -> int:
    from kexue_archive import build as build_module
    from kexue_archive.cli import main

    spent = _stage_spies()
    real = build_module.build
    seen: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        seen.append(result)
        return result

    build_module.build = spy  # cli imports build at call time, so it calls the spy
    argv = ["build", "--seeds", str(seeds), "--archive", str(root), "--site", str(site), "-q"]
    code = main([*argv, "--full"] if full else argv)
    data = _result_dict(seen[-1]) if seen else {}
    if seen:
        data["stages"] = _stages(seen[-1], spent)
        data["peaks_mb"] = {**PEAKS, "end": _peak_mb()}
    _dump(out, {"exit": code, **data})
    return code


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


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
    if command == "index":
        return cmd_index(Path(rest[0]), Path(rest[1]))
    if command == "search":
        queries = json.loads(Path(rest[1]).read_text(encoding="utf-8"))
        return cmd_search(Path(rest[0]), queries, Path(rest[3]), int(rest[2]))
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
