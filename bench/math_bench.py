"""How fast KaTeX renders the archive's math, and what the per-article cache saves.

Prints formulas/second for: the seeds (34 articles, one Node process, start-up
included); a synthetic batch of ~20k formulas (1000 articles of 20 formulas drawn
from the seeds and from tests/fixtures/math, each made distinct); the same batch
through an empty cache (fill), a warm cache (every article a hit, no Node), and a
warm cache after one article changed (what an incremental rebuild pays).

    python bench/math_bench.py [--articles 1000] [--per-article 20]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kexue_archive.build import build  # noqa: E402 - after the path set-up above
from kexue_archive.mathrender import katex_version, render_articles  # noqa: E402
from kexue_archive.records import Article, Math  # noqa: E402
from kexue_archive.tex import scan  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "math" / "kexue_style.txt"


def seed_articles(work: Path) -> list[Article]:
    from kexue_archive.archive import load_articles

    build(ROOT / "seeds", work / "archive")
    return load_articles(work / "archive")


def formula_pool(seeds: Sequence[Article]) -> list[Math]:
    """Every formula of the seeds and of the kexue-style fixture that renders on its own (no macros, no refs)."""
    candidates = [m for a in seeds for m in a.math] + list(scan(FIXTURE.read_text("utf-8")).math)
    alone = [Article(f"p{i:011x}", None, None, None, None, "", (m,), None, (), ()) for i, m in enumerate(candidates)]
    rendered = render_articles(alone)
    return [m for a, m in zip(alone, candidates, strict=True) if rendered[a.id][0].ok and "??" not in rendered[a.id][0].html]


def synthetic(pool: Sequence[Math], articles: int, per_article: int) -> list[Article]:
    """``articles`` articles of ``per_article`` formulas; each inline formula gets a distinct term."""
    rng = random.Random(0)
    out = []
    for i in range(articles):
        math = []
        for j in range(per_article):
            m = rng.choice(pool)
            tex = m.tex if m.tex.lstrip().startswith("\\begin") else f"{m.tex} + c_{{{i}}}^{{{j}}}"
            math.append(Math(tex, m.display))
        out.append(Article(f"{i:012x}", f"t{i}", None, None, None, "", tuple(math), None, (), ()))
    return out


def timed(label: str, articles: Sequence[Article], **kw: object) -> float:
    count = sum(len(a.math) for a in articles)
    start, cpu = time.perf_counter(), _cpu()
    rendered = render_articles(articles, **kw)  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    failed = sum(not r.ok for rs in rendered.values() for r in rs)
    print(
        f"{label:<48} {count:>6} formulas {seconds:7.2f} s wall {count / seconds:>7.0f}/s"
        f"  | CPU (Python+Node) {cpu:6.2f} s {count / max(cpu, 1e-9):>7.0f}/s  | failed {failed}"
    )
    return seconds


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Node): wall time lies on a busy machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--per-article", type=int, default=20)
    args = parser.parse_args()
    print(f"KaTeX {katex_version()}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seeds = seed_articles(work)
        timed("seeds (Node start-up included)", seeds)
        batch = synthetic(formula_pool(seeds), args.articles, args.per_article)
        timed("synthetic batch, no cache", batch)
        cache = work / "cache"
        timed("synthetic batch, empty cache (fill)", batch, cache_dir=cache)
        timed("synthetic batch, warm cache (all hits)", batch, cache_dir=cache)
        last = batch[-1]
        edited = Article(last.id, last.title, None, None, None, "", (*last.math, Math("z^2", False)), None, (), ())
        changed = [*batch[:-1], edited]
        timed("synthetic batch, warm cache, 1 article changed", changed, cache_dir=cache)
        size = sum(p.stat().st_size for p in cache.rglob("*.json"))
        print(f"cache: {len(list(cache.rglob('*.json')))} files, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
