"""One build at a time per archive: a second one waits, and says so; so does a search that finds the index mid-update."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``root`` (created if missing) for the block.

    The lock is an OS file lock, so a killed build releases it with its process.
    """
    lock_dir = root / ".cache"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / "build.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            print(f"waiting for the build running in {holder} to finish ...", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_for_build(root: Path) -> bool:
    """Wait for a build running on ``root`` to finish, saying so; False at once when none runs.

    Read only: the lock file is not created, and a shared lock is only ever held while waiting.
    """
    try:
        with open(root / ".cache" / "build.lock") as handle:
            return _wait(handle)
    except OSError:
        return False  # never built here, or the lock cannot be read or taken: nothing to wait for


def _wait(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = handle.read().strip() or "another process"
        print(f"the index is being updated: waiting for the build running in {holder} to finish ...", file=sys.stderr)
        fcntl.flock(handle, fcntl.LOCK_SH)
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True
    fcntl.flock(handle, fcntl.LOCK_UN)
    return False
