"""Tables and target checks of a benchmark run, as console text and as Markdown.

The Markdown goes between two markers in RESULTS.md so that hand-written notes
around it (profiles, before/after) survive a rerun.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.measure import ROOT

BEGIN, END = "<!-- bench:begin (written by bench/run.py) -->", "<!-- bench:end -->"
Metrics = dict[str, Any]
NA = "n/a (not built)"


def now() -> float:
    return time.perf_counter()


def _s(v: Any) -> str:
    return f"{v:.2f} s" if isinstance(v, int | float) else NA


def _ms(v: Any) -> str:
    return f"{v:.2f} ms" if isinstance(v, int | float) else NA


def _mb(v: Any) -> str:
    return f"{v:.0f} MB" if isinstance(v, int | float) else NA


def _size(v: Any) -> str:
    return f"{v / 2**20:.1f} MiB" if isinstance(v, int | float) else NA


def _stage(name: str) -> Callable[[Metrics], str]:
    def cell(m: Metrics) -> str:
        stages = m.get("stages")
        value = (stages or {}).get(name)
        return _s(value) if value is not None else NA if stages is None else "n/a (not called by this build)"
    return cell


def _ratio(a: str, b: str) -> Callable[[Metrics], str]:
    def cell(m: Metrics) -> str:
        x, y = m.get(a), m.get(b)
        return f"{x / y:.2f}×" if isinstance(x, int | float) and isinstance(y, int | float) and y else "n/a"
    return cell


def _rate(m: Metrics) -> str:
    seconds = m.get("index_s")
    return f"{m['records'] / seconds:,.0f} /s" if seconds else NA


def _peaks(m: Metrics) -> str:
    """Where the build process's peak RSS jumps: "parse+merge 120 → index 445 → ..." in MB."""
    peaks = m.get("peaks_mb") or {}
    order = [("before index", "parse+merge"), ("after index", "index"), ("after load", "load"), ("after site", "site")]
    shown = [f"{label} {peaks[key]:.0f}" for key, label in order if key in peaks]
    return " → ".join(shown) + " MB" if shown else "n/a"


def _in_page(key: str) -> Callable[[Metrics], str]:
    def cell(m: Metrics) -> str:
        page = m.get("in_page") or {}
        return _ms(page[key]) if key in page else str(page.get("note", NA))
    return cell


def _hugo(key: str, fmt: Callable[[Any], str]) -> Callable[[Metrics], str]:
    def cell(m: Metrics) -> str:
        return fmt(m[key]) if key in m else "n/a (Hugo not installed)"
    return cell


ROWS: list[tuple[str, Callable[[Metrics], str]]] = [
    ("records (dumps)", lambda m: f"{m['records']:,} ({m['dumps']:,})"),
    ("full build: `kexue-archive build` (median)", lambda m: _s(m.get("full_s"))),
    ("  + search index, when the build does not make it", lambda m: _s(m.get("index_extra_s")) if "index_extra_s" in m
     else "in build" if m.get("index_in_build") else NA),
    ("full build, everything a user needs", lambda m: _s(m.get("full_total_s"))),
    ("full build CPU time (user+sys, all processes)", lambda m: _s(m.get("full_cpu_s"))),
    ("peak RSS (largest process)", lambda m: _mb(m.get("full_peak_mb"))),
    ("peak RSS of the build process after each stage", _peaks),
    ("stage: parse+merge", _stage("parse+merge")),
    ("stage: index", _stage("index")),
    ("stage: load records (for the site)", _stage("load")),
    ("stage: math", _stage("math")),
    ("stage: render", _stage("render")),
    ("stage timings from", lambda m: str(m.get("stage_source", "n/a"))),
    ("no-op rebuild", lambda m: _s(m.get("noop_s"))),
    ("no-op rebuild CPU time", lambda m: _s(m.get("noop_cpu_s"))),
    ("+20-article rebuild (one new dump)", lambda m: _s(m.get("add20_s"))),
    ("+20-article rebuild CPU time", lambda m: _s(m.get("add20_cpu_s"))),
    ("  of which start-up and imports (`python -c 'import …'` beside each, median)", lambda m: _s(m.get("add20_imports_s"))),
    ("Hugo full build", _hugo("hugo_full_s", _s)),
    ("Hugo full build CPU time", _hugo("hugo_full_cpu_s", _s)),
    ("Hugo peak RSS", _hugo("hugo_peak_mb", _mb)),
    ("Hugo +20-article rebuild", _hugo("hugo_add20_s", _s)),
    ("full build / Hugo full build", _ratio("full_total_s", "hugo_full_s")),
    ("+20 rebuild / Hugo full build", _ratio("add20_s", "hugo_full_s")),
    ("indexing rate", _rate),
    ("cold CLI search (median, process start to exit)", lambda m: _s(m.get("cold_search_s")) if "cold_search_s" in m
     else m.get("search_note", NA)),
    ("  of which Python's own start-up (`python -c pass` beside each, median)", lambda m: _s(m.get("python_start_s"))),
    ("warm query p50", lambda m: _ms(m.get("warm_p50_ms"))),
    ("warm query p95", lambda m: _ms(m.get("warm_p95_ms"))),
    ("FTS5 (trigram) indexing", lambda m: _s(m.get("fts_index_s"))),
    ("FTS5 cold `sqlite3` CLI query (median)", lambda m: _s(m.get("fts_cold_s"))),
    ("FTS5 warm p50 / p95", lambda m: f"{_ms(m.get('fts_p50_ms'))} / {_ms(m.get('fts_p95_ms'))}"),
    ("in-page search, first query", _in_page("first_ms")),
    ("in-page search, warm median", _in_page("p50_ms")),
    ("in-page search, warm p95", _in_page("p95_ms")),
    ("size: archive (records, ledgers, report)", lambda m: _size(m.get("size_archive"))),
    ("size: search index (Whoosh)", lambda m: _size(m.get("size_index"))),
    ("size: site", lambda m: _size(m.get("size_site"))),
    ("size: in-page search data (assets/search/*.js)", lambda m: _size(m.get("size_search_index"))),
    ("size: Hugo public/", _hugo("hugo_size", _size)),
    ("size: FTS5 database", lambda m: _size(m.get("fts_size"))),
]


def table(results: Sequence[Metrics]) -> list[list[str]]:
    head = ["measure", *(f"N={m['n']:,}" for m in results)]
    return [head, *([label, *(cell(m) for m in results)] for label, cell in ROWS)]


def _at(results: Sequence[Metrics], n: int) -> Metrics | None:
    return next((m for m in results if m["n"] == n), None)


def _check(value: Any, limit: float) -> str:
    return "n/a" if not isinstance(value, int | float) else "PASS" if value <= limit else "FAIL"


def targets(results: Sequence[Metrics]) -> list[tuple[str, str, str]]:
    """(target, PASS/FAIL/n/a, the figure it was judged on)."""
    out = []
    m10, m50 = _at(results, 10_000), _at(results, 50_000)

    def ratio(m: Metrics | None, key: str) -> float | None:
        if m is None or not m.get("hugo_full_s") or not isinstance(m.get(key), int | float):
            return None
        return float(m[key]) / float(m["hugo_full_s"])

    r = ratio(m10, "full_total_s")
    out.append(("10k full build ≤ 1.5× Hugo full build", _check(r, 1.5), f"{r:.2f}×" if r else "needs N=10000 and Hugo"))
    peak = m50.get("full_peak_mb") if m50 else None
    out.append(("50k completes under 0.5 GB peak RSS", _check(peak, 512), _mb(peak) if peak else "needs N=50000"))
    add50 = m50.get("add20_s") if m50 else None
    out.append(("+20-article rebuild on a 50k archive ≤ 2 s", _check(add50, 2.0), _s(add50) if add50 else "needs N=50000"))
    r = ratio(m10, "add20_s")
    out.append(("+20-article rebuild on a 10k archive ≤ 0.15× Hugo full build", _check(r, 0.15),
                f"{r:.3f}×" if r else "needs N=10000 and Hugo"))
    for m in results:
        out.append((f"no-op rebuild < 1 s (N={m['n']:,})", _check(m.get("noop_s"), 1.0), _s(m.get("noop_s"))))
    cold = m10.get("cold_search_s") if m10 else None
    out.append(("cold CLI search at 10k ≤ 0.15 s", _check(cold, 0.15), _s(cold) if m10 else "needs N=10000"))
    for m in results:
        out.append((f"warm query p95 ≤ 20 ms (N={m['n']:,})", _check(m.get("warm_p95_ms"), 20.0), _ms(m.get("warm_p95_ms"))))
        rate = m["records"] / m["index_s"] if m.get("index_s") else None
        out.append((f"indexing ≥ 1,000 articles/s (N={m['n']:,})", "n/a" if rate is None else "PASS" if rate >= 1000 else "FAIL",
                    _rate(m)))
    page = (m10 or {}).get("in_page") or {}
    out.append(("in-page search ≤ 5 ms median at 10k", _check(page.get("p50_ms"), 5.0),
                _ms(page.get("p50_ms")) if "p50_ms" in page else str(page.get("note", "needs N=10000"))))
    return out


def _grid(rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        esc = [[c.replace("|", "\\|") for c in r] for r in rows]
        return ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(esc[0]), *("| " + " | ".join(r) + " |" for r in esc[1:])]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]


def console(results: Sequence[Metrics]) -> str:
    lines = _grid(table(results), markdown=False)
    lines += ["", "targets:"] + [f"  {status:4}  {name}: {figure}" for name, status, figure in targets(results)]
    notes = sorted({str(m["hugo_note"]) for m in results if m.get("hugo_note")})
    notes += [f"N={m['n']:,}: failed: {f}" for m in results for f in m.get("failures", [])]
    return "\n".join(lines + [f"note: {n}" for n in notes])


def machine() -> str:
    cpuinfo, meminfo = _lines("/proc/cpuinfo"), _lines("/proc/meminfo")
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) / 2**20 for line in meminfo if line.startswith("MemTotal")), 0.0)
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    load = ", load average {:.1f}/{:.1f}/{:.1f} at the end".format(*os.getloadavg())
    return f"{os.cpu_count()} CPUs ({cpu}), {mem:.1f} GiB memory, {system}{load}"


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "kexue_archive", "templates")
    return head + (" (with uncommitted changes to kexue_archive/ or templates/)" if dirty else "")


def markdown(results: Sequence[Metrics], args: argparse.Namespace, queries: Sequence[str], source: str) -> str:
    sizes = ",".join(str(m["n"]) for m in results)
    lines = [
        BEGIN,
        f"Run {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine()}; commit {commit()}.",
        "",
        f"Command: `python bench/run.py --sizes {sizes} --repeat {args.repeat} --seed {args.seed}`. "
        f"Medians of {args.repeat} runs; each run a fresh process (and fresh folders for full builds). "
        f"Queries ({source}): " + ", ".join(f"`{q}`" for q in queries) + ".",
        "",
        *_grid(table(results), markdown=True),
        "",
        "| target | result | figure |",
        "|---|---|---|",
        *(f"| {name} | **{status}** | {figure} |" for name, status, figure in targets(results)),
        "",
        *sorted({f"Note: {m['hugo_note']}" for m in results if m.get("hugo_note")}),
        *(f"- N={m['n']:,}: failed: {f}" for m in results for f in m.get("failures", [])),
        END,
    ]
    return "\n".join(lines) + "\n"


def update_file(path: Path, block: str) -> None:
    """Replace the block between the markers (or append it), keeping everything else."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        new = head + block + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
