"""The benchmark harness: the whole pipeline at N articles, beside Hugo and SQLite FTS5.

    python bench/run.py --sizes 1000,10000 [--repeat 3] [--out bench/RESULTS.md]

Per N: a generated corpus (bench/corpus.py); full builds in fresh folders, a
process each (wall time, peak RSS), split into stages; no-op rebuilds; +20
article rebuilds (one new dump each); cold CLI search and warm query latency;
in-page search in headless Chromium; output sizes; and the baselines (Hugo
full build and +20 rebuild, FTS5 indexing and queries) on the same articles.
Medians of ``--repeat`` runs, since machines here are shared and noisy.
Prints a table and the target checks (PASS/FAIL/n/a, never an exit code), and
writes them into ``--out`` between markers, keeping the rest of the file.
Stages that do not exist yet print "n/a (not built)"; they are picked up when
they land.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `kexue_archive` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import baselines, corpus, report
from bench.browser import in_page_search
from bench.measure import folder_size, median, percentile, python, run

#: Used only when neither bench/search_bench.py nor bench/site.py provides a QUERIES list.
DEFAULT_QUERIES = ["扩散模型", "熵", "外推", "LoRA 梯度", "模型 -扩散", "\\frac", "transformer", "概率 OR 梯度", "title:漫谈"]
Metrics = dict[str, Any]


def query_set() -> tuple[list[str], str]:
    """The fixed query set: the search engineer's if present, else the site bench's, else ours."""
    for module in ("bench.search_bench", "bench.site"):
        try:
            queries = getattr(importlib.import_module(module), "QUERIES", None)
        except Exception:  # a sibling bench that does not import today must not stop this one
            continue
        if queries:
            return [str(q) for q in queries], module
    return DEFAULT_QUERIES, "bench.run"


def _child(*args: object) -> tuple[Any, dict[str, Any]]:
    """Run ``python -m bench.child ARGS`` and read the JSON it wrote (its last argument)."""
    out = Path(str(args[-1]))
    result = python("-m", "bench.child", *map(str, args))
    return result, json.loads(out.read_text(encoding="utf-8"))


def full_builds(m: Metrics, seeds: Path, work: Path, repeat: int, log: Callable[[str], None]) -> Path:
    """``repeat`` full builds, each in fresh folders; returns the last one (the base for what follows)."""
    seconds, cpu, peaks, results = [], [], [], []
    for r in range(repeat):
        base = work / f"build{r}"
        shutil.rmtree(work / f"build{r - 1}", ignore_errors=True)
        proc, result = _child("build", seeds, base / "archive", base / "site", base / "build.json")
        seconds.append(proc.seconds)
        cpu.append(proc.cpu_seconds)
        peaks.append(proc.peak_mb)
        results.append(result)
        log(f"full build {r + 1}/{repeat}: {proc.seconds:.2f} s ({proc.cpu_seconds:.2f} s CPU), "
            f"peak {proc.peak_mb:.0f} MB")
    m.update(full_s=median(seconds), full_cpu_s=median(cpu), full_peak_mb=max(peaks),
             records=results[-1]["records"], pages=results[-1]["pages"], peaks_mb=results[-1].get("peaks_mb"))
    timings = [r["timings"] for r in results if r.get("timings")]
    source = "BuildResult.timings"
    if not timings:  # the build does not report stages: use the times the child measured around them
        timings, source = [r["stages"] for r in results if r.get("stages")], "wrapped stage functions in the build"
    if timings:
        stages = {k: median([t[k] for t in timings if t.get(k) is not None]) for k in timings[-1]}
        m.update(stages=stages, stage_source=source)
        if stages.get("index"):
            m["index_s"] = stages["index"]
    return base


def index_stage(m: Metrics, base: Path, work: Path, log: Callable[[str], None]) -> None:
    """When the build does not make the search index, make it (timed) so search can be measured."""
    m["index_in_build"] = (base / "archive" / "index").exists()
    m["full_total_s"] = m["full_s"]
    if m["index_in_build"] or importlib.util.find_spec("kexue_archive.index") is None:
        return
    proc, result = _child("index", base / "archive", work / "index.json")
    m["index_extra_s"] = proc.seconds
    m["full_total_s"] = m["full_s"] + proc.seconds
    m["full_peak_mb"] = max(m["full_peak_mb"], proc.peak_mb)
    m.setdefault("index_s", result["seconds"])
    log(f"index (not made by the build): {proc.seconds:.2f} s")


#: What a +20 rebuild imports (the build, the readers of a text dump, the index writer, the site's
#: renderer): timed on their own beside each rebuild, the part of it no archive size changes.
#: (Whoosh as the index loads it: ``opening.load_whoosh`` leaves out imports it never uses.)
REBUILD_IMPORTS = ("import kexue_archive.cli, kexue_archive.build, kexue_archive.readers.text_listing, "
                   "kexue_archive.render, opencc; from kexue_archive.index.opening import load_whoosh; "
                   "load_whoosh(); import kexue_archive.index.writer")


def rebuilds(m: Metrics, seeds: Path, base: Path, repeat: int, key: str, add: bool, log: Callable[[str], None]) -> None:
    seconds, cpu, imports = [], [], []
    for r in range(repeat):
        if add:
            corpus.add_dump(seeds, count=20)
            imports.append(run([sys.executable, "-c", REBUILD_IMPORTS]).seconds)
        try:
            proc, result = _child("build", seeds, base / "archive", base / "site", base / "rebuild.json")
        except RuntimeError as exc:  # a broken build is a result to report, not a reason to lose the run
            m.setdefault("failures", []).append(f"{key} run {r + 1}: {str(exc).strip().splitlines()[-1][:160]}")
            log(f"{key} {r + 1}/{repeat}: FAILED ({m['failures'][-1]})")
            continue
        seconds.append(proc.seconds)
        cpu.append(proc.cpu_seconds)
        did = f"{proc.cpu_seconds:.2f} s CPU; {result.get('new_dumps')} new dumps, {result.get('written')} written"
        log(f"{key} {r + 1}/{repeat}: {proc.seconds:.2f} s ({did})")
    m[key] = median(seconds)
    m[key.replace("_s", "_cpu_s")] = median(cpu)
    if imports:
        m[key.replace("_s", "_imports_s")] = median(imports)


def search(m: Metrics, base: Path, work: Path, queries: list[str], repeat: int) -> None:
    root = base / "archive"
    if not (root / "index").exists():
        m["search_note"] = "n/a (not built: no index)"
        return
    # The console script beside this interpreter: a PATH shim (pyenv) would add ~0.1 s that is not ours.
    script = Path(sys.executable).with_name("kexue-archive")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kexue_archive"]
    cold, bare = [], []
    for _ in range(repeat):  # a bare interpreter beside each search: how much of "cold" is Python's own start-up here
        for q in queries:
            cold.append(run([*command, "search", "--archive", str(root), q]).seconds)
            bare.append(run([sys.executable, "-c", "pass"]).seconds)
    m["cold_search_s"], m["python_start_s"] = median(cold), median(bare)
    qfile = work / "queries.json"
    qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    _, result = _child("search", root, qfile, max(3, repeat), work / "search.json")
    warm = [s for samples in result["samples"].values() for s in samples]
    m.update(warm_p50_ms=percentile(warm, 50) * 1000, warm_p95_ms=percentile(warm, 95) * 1000)  # type: ignore[operator]


def fts5(m: Metrics, base: Path, work: Path, queries: list[str], repeat: int) -> None:
    from kexue_archive.archive import load_articles

    articles = load_articles(base / "archive")
    db = work / "fts5.sqlite"
    m["fts_index_s"] = median([baselines.fts5_index(db, articles) for _ in range(repeat)])
    m["fts_size"] = db.stat().st_size
    con = sqlite3.connect(db)
    for q in queries:
        baselines.fts5_query(con, q)
    warm = []
    for _ in range(max(3, repeat)):
        for q in queries:
            started = report.now()
            baselines.fts5_query(con, q)
            warm.append(report.now() - started)
    con.close()
    m.update(fts_p50_ms=percentile(warm, 50) * 1000, fts_p95_ms=percentile(warm, 95) * 1000)  # type: ignore[operator]
    cold = [r.seconds for r in (baselines.fts5_cli(db, q) for _ in range(repeat) for q in queries) if r is not None]
    m["fts_cold_s"] = median(cold)


def hugo(m: Metrics, seeds: Path, work: Path, n: int, seed: int, repeat: int, log: Callable[[str], None]) -> None:
    version = baselines.hugo_version()
    if version is None:
        m["hugo_note"] = "Hugo not installed (apt-get install -y hugo): no Hugo baseline this run"
        log(m["hugo_note"])
        return
    site = work / "hugo"
    baselines.write_hugo_site(site, corpus.articles(0, n, seed))
    runs = [baselines.hugo_build(site, fresh=True) for _ in range(repeat)]
    m.update(hugo=version, hugo_full_s=median([r.seconds for r in runs]),
             hugo_full_cpu_s=median([r.cpu_seconds for r in runs]), hugo_peak_mb=max(r.peak_mb for r in runs),
             hugo_size=folder_size(site / "public"))
    log(f"hugo full build: {m['hugo_full_s']:.2f} s, peak {m['hugo_peak_mb']:.0f} MB")
    baselines.add_hugo_articles(site, corpus.articles(n, n + 20, seed))
    m["hugo_add20_s"] = median([baselines.hugo_build(site, fresh=False).seconds for _ in range(repeat)])
    log(f"hugo +20 rebuild: {m['hugo_add20_s']:.2f} s")


def sizes(m: Metrics, base: Path) -> None:
    m["size_archive"] = folder_size(base / "archive", skip=(".cache", "index"))
    m["size_index"] = folder_size(base / "archive" / "index")
    m["size_site"] = folder_size(base / "site")
    shards = sorted((base / "site" / "assets" / "search").glob("*.js"))  # the in-page search data, in shards
    m["size_search_index"] = sum(js.stat().st_size for js in shards) if shards else None


def bench_size(n: int, work: Path, args: argparse.Namespace, queries: list[str]) -> Metrics:
    def log(text: str) -> None:
        print(f"[N={n:,}] {text}", file=sys.stderr, flush=True)

    m: Metrics = {"n": n}
    seeds = work / "seeds"
    m["dumps"] = len(corpus.generate(n, seeds, seed=args.seed))
    log(f"corpus: {m['dumps']} dumps")
    base = full_builds(m, seeds, work, args.repeat, log)
    index_stage(m, base, work, log)
    rebuilds(m, seeds, base, args.repeat, "noop_s", False, log)
    sizes(m, base)
    search(m, base, work, queries, args.repeat)
    m["in_page"] = in_page_search(base / "site", queries) if not args.no_browser else {"note": "n/a (--no-browser)"}
    fts5(m, base, work, queries, args.repeat)
    hugo(m, seeds, work, n, args.seed, args.repeat, log)
    rebuilds(m, seeds, base, args.repeat, "add20_s", True, log)
    return m


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000", help="comma-separated article counts (default: 1000,10000)")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; medians are reported (default: 3)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed (default: 0)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "RESULTS.md", help="Markdown file to update")
    p.add_argument("--json", type=Path, help="also write the raw figures as JSON")
    p.add_argument("--work", type=Path, help="scratch folder (default: a fresh temporary one, removed afterwards)")
    p.add_argument("--no-browser", action="store_true", help="skip the in-page search timing")
    args = p.parse_args(argv)
    sizes_ = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    queries, source = query_set()
    results = []
    with tempfile.TemporaryDirectory(prefix="kexue-bench-", dir=args.work) as tmp:
        for n in sizes_:
            results.append(bench_size(n, Path(tmp) / f"n{n}", args, queries))
    text = report.markdown(results, args, queries, source)
    print(report.console(results))
    report.update_file(args.out, text)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"results written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
