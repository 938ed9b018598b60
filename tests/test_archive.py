"""Atomic writes: whole files only, ordinary permissions, no leftovers."""

from __future__ import annotations

import os
from pathlib import Path

from kexue_archive.archive import Writer, atomic_write


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a" / "page.html", b"<p>x</p>")
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "page.html").stat().st_mode & 0o777 == 0o644
    assert os.listdir(tmp_path / "a") == ["page.html"]


def test_replacing_a_file_is_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    atomic_write(target, b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["r.yaml"]


def test_threads_writing_one_file_never_share_a_temporary(tmp_path: Path) -> None:
    """Two builds of one process (threads) sharing the math cache write the same entries at once."""
    from concurrent.futures import ThreadPoolExecutor

    target = tmp_path / "entry.json"
    values = [f"value {k}".encode() * 2000 for k in range(8)]

    def write_often(value: bytes) -> None:
        for _ in range(150):
            atomic_write(target, value)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write_often, values))  # raises if one thread's temporary was replaced by another's
    assert target.read_bytes() in values and os.listdir(tmp_path) == ["entry.json"]


def test_writer_writes_only_changes(tmp_path: Path) -> None:
    writer = Writer()
    assert writer.write(tmp_path / "x", b"1") is True
    assert writer.write(tmp_path / "x", b"1") is False
    assert writer.write(tmp_path / "x", b"2") is True
    writer.remove(tmp_path / "x")
    writer.remove(tmp_path / "x")
    assert (writer.written, writer.removed) == (2, 1)
