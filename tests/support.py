"""Paths and helpers the tests share (importable as ``support``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILES = sorted(p.name for p in SEEDS.iterdir())


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``kexue-archive`` console script, as a user would.

    Without ``cwd`` it runs in a scratch folder, so default outputs (site/, ...)
    never land in the repository.
    """
    exe = shutil.which("kexue-archive")
    command = [exe] if exe else [sys.executable, "-m", "kexue_archive"]
    with tempfile.TemporaryDirectory(prefix="kexue-cli-") as scratch:
        return subprocess.run(
            [*command, *args], cwd=cwd or scratch, capture_output=True, text=True, timeout=600,
            env={**os.environ, **(env or {})},
        )


def drain(leader: int) -> bytes:
    """All a pseudo-terminal showed until the process on its other end closed it; closes ``leader``."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other end was closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks)
