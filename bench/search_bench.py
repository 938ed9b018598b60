"""Search speed at 1k and 10k generated articles, beside SQLite FTS5 on the same records.

    python bench/search_bench.py [--sizes 1000 10000] [--repeat 5] [--work DIR]

For each size: the seeded corpus (bench/corpus.py) is built into an archive
by the real build, then, on the same records, in the same run:

* indexing throughput: our index rebuilt from scratch (``index.index_articles
  full=True``), and an FTS5 trigram table (bench/baselines.py), articles/s;
* cold CLI: ``kexue-archive search --archive A QUERY`` as a fresh process,
  spawn to exit (its last byte written), median over QUERIES x repeat; FTS5:
  the same query through the ``sqlite3`` shell;
* warm latency: ``index.search`` in one process after a warm-up, p50/p95 over
  QUERIES x repeat; FTS5: the same SQL on an open connection.

The machine is shared, so CPU seconds (user+sys) are printed beside wall
time; the PASS/FAIL column judges the wall time, as a user would feel it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `kexue_archive` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import baselines, corpus
from bench.measure import folder_size, median, percentile, run
from kexue_archive import index
from kexue_archive.archive import load_articles
from kexue_archive.build import build

#: The fixed query set (also used by bench/run.py): every kind of query users type.
QUERIES = [
    "扩散模型", "熵", "外推", "梯度", "Transformer", "lora", "ＬｏＲＡ", "擴散模型", "LoRA 梯度", '"生成函数"',
    "模型 -扩散", "概率 OR 梯度", "title:漫谈", "\\frac", "注意力机制", "学习率 权重衰减", "Fokker-Planck方程",
]
TARGETS = {"cold_s": 0.15, "warm_p95_ms": 20.0, "index_rate": 1000.0}


def prepare(n: int, work: Path) -> tuple[Path, list]:  # type: ignore[type-arg]  # list[Article]
    """The archive of ``n`` generated articles (reused when ``work`` already holds it)."""
    seeds, root = work / f"n{n}" / "seeds", work / f"n{n}" / "archive"
    if not (root / "manifest.yaml").exists():
        shutil.rmtree(work / f"n{n}", ignore_errors=True)
        corpus.generate(n, seeds, seed=0)
        build(seeds, root)
    return root, load_articles(root)


def _cpu() -> float:
    """CPU seconds of this process and of the children it has reaped (the index writer forks one)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn: object) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    fn()  # type: ignore[operator]  # a zero-argument callable
    return time.perf_counter() - wall, _cpu() - cpu


def measure(n: int, work: Path, repeat: int) -> dict[str, float | None]:
    _, articles = prepare(n, work)
    m: dict[str, float | None] = {"records": float(len(articles))}
    copy = work / f"n{n}" / "reindex"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    wall, cpu = timed(lambda: index.index_articles(copy, articles, full=True))
    m.update(index_rate=len(articles) / wall, index_cpu_rate=len(articles) / cpu, index_mb=_mb(copy / "index"))
    db = work / f"n{n}" / "fts5.sqlite"
    wall, cpu = timed(lambda: baselines.fts5_index(db, articles))
    m.update(fts_index_rate=len(articles) / wall, fts_index_cpu_rate=len(articles) / cpu, fts_mb=db.stat().st_size / 2**20)

    # The console script next to this interpreter: a `kexue-archive` found on PATH may be a
    # version manager's shim (pyenv's costs ~0.1 s of bash before Python even starts).
    script = Path(sys.executable).with_name("kexue-archive")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kexue_archive"]
    runs = [run([*command, "search", "--archive", str(copy), q]) for _ in range(repeat) for q in QUERIES]
    bad = [r for r in runs if r.code not in (0, 1)]
    if bad:
        raise RuntimeError(f"search failed: {bad[0].stderr}")
    m.update(cold_s=median([r.seconds for r in runs]), cold_p95_s=percentile([r.seconds for r in runs], 95),
             cold_cpu_s=median([r.cpu_seconds for r in runs]))
    fts_runs = [r for r in (baselines.fts5_cli(db, q) for _ in range(repeat) for q in QUERIES) if r is not None]
    m.update(fts_cold_s=median([r.seconds for r in fts_runs]), fts_cold_cpu_s=median([r.cpu_seconds for r in fts_runs]))

    for q in QUERIES:  # warm-up: open the index, fill the OS and Python caches
        index.search(copy, q, limit=10)
    warm = [timed(lambda q=q: index.search(copy, q, limit=10))[0] for _ in range(repeat * 3) for q in QUERIES]
    m.update(warm_p50_ms=1000 * (percentile(warm, 50) or 0), warm_p95_ms=1000 * (percentile(warm, 95) or 0))
    con = sqlite3.connect(db)
    for q in QUERIES:
        baselines.fts5_query(con, q)
    fts_warm = [timed(lambda q=q: baselines.fts5_query(con, q))[0] for _ in range(repeat * 3) for q in QUERIES]
    con.close()
    m.update(fts_warm_p50_ms=1000 * (percentile(fts_warm, 50) or 0), fts_warm_p95_ms=1000 * (percentile(fts_warm, 95) or 0))
    return m


def _mb(path: Path) -> float:
    return (folder_size(path) or 0) / 2**20


ROWS = [
    # label, our key, FTS5 key, format, target key (judged at the largest size), higher is better
    ("indexing, articles/s (wall)", "index_rate", "fts_index_rate", "{:.0f}", "index_rate", True),
    ("indexing, articles/CPU-s", "index_cpu_rate", "fts_index_cpu_rate", "{:.0f}", None, True),
    ("index size, MB", "index_mb", "fts_mb", "{:.1f}", None, False),
    ("cold CLI search, s (median)", "cold_s", "fts_cold_s", "{:.3f}", "cold_s", False),
    ("cold CLI search, s (p95)", "cold_p95_s", None, "{:.3f}", None, False),
    ("cold CLI search, CPU-s", "cold_cpu_s", "fts_cold_cpu_s", "{:.3f}", None, False),
    ("warm query p50, ms", "warm_p50_ms", "fts_warm_p50_ms", "{:.2f}", None, False),
    ("warm query p95, ms", "warm_p95_ms", "fts_warm_p95_ms", "{:.2f}", "warm_p95_ms", False),
]


def table(results: dict[int, dict[str, float | None]]) -> str:
    sizes = sorted(results)
    head = ["metric"] + [f"{who} {n // 1000}k" for n in sizes for who in ("ours", "FTS5")] + ["target", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, ours, fts, fmt, target, higher in ROWS:
        cells = [label]
        for n in sizes:
            for key in (ours, fts):
                value = results[n].get(key) if key else None
                cells.append(fmt.format(value) if value is not None else "n/a")
        if target:
            goal, got = TARGETS[target], results[sizes[-1]].get(ours)
            ok = got is not None and (got >= goal if higher else got <= goal)
            cells += [("≥ " if higher else "≤ ") + fmt.format(goal), "PASS" if ok else "FAIL"]
        else:
            cells += ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--repeat", type=int, default=5, help="runs of each query (default: 5)")
    p.add_argument("--work", type=Path, help="keep corpora and archives here (reused by later runs)")
    args = p.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="search-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    for n in args.sizes:
        results[n] = measure(n, work, args.repeat)
        print(f"{n} articles done (load average {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    print(f"queries: {len(QUERIES)} x {args.repeat} runs; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(table(results))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
