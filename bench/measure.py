"""Timing a process from start to exit, with its peak memory, and the statistics the tables use.

Peak RSS comes from ``os.wait4`` on the child: Linux reports the largest
resident set of the child or any descendant it waited for (the KaTeX Node
process of a build counts, as the largest single process, not summed).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float  # user + system, the process and its waited-for children: robust to a busy machine
    peak_mb: float
    code: int
    stdout: str
    stderr: str


def run(command: Sequence[str], *, cwd: Path | None = None) -> Run:
    """Run ``command`` to completion; wall time from spawn to exit (its last byte is written by then).

    Children run as an installed program does: Python writes and reuses its
    bytecode caches. A sandbox or CI image may set PYTHONDONTWRITEBYTECODE,
    which makes every start compile the program again (~40 ms of a cold
    search here); it is dropped for the children.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        return Run(seconds, cpu, usage.ru_maxrss / 1024, proc.returncode, stdout, stderr)


def python(*args: str, cwd: Path | None = None) -> Run:
    """``python -m bench.child ...`` (or any module) in a fresh interpreter; fails loudly on a non-zero exit."""
    result = run([sys.executable, *args], cwd=cwd)
    if result.code != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result.code}:\n{result.stderr[-2000:]}")
    return result


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (no interpolation: a value that was actually observed)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def folder_size(path: Path, skip: Sequence[str] = ()) -> int | None:
    """Bytes of the regular files under ``path`` (None when it does not exist), skipping top-level ``skip`` names."""
    if not path.exists():
        return None
    return sum(
        p.stat().st_size for p in path.rglob("*")
        if p.is_file() and p.relative_to(path).parts[0] not in skip
    )
