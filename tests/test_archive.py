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


def test_writer_writes_only_changes(tmp_path: Path) -> None:
    writer = Writer()
    assert writer.write(tmp_path / "x", b"1") is True
    assert writer.write(tmp_path / "x", b"1") is False
    assert writer.write(tmp_path / "x", b"2") is True
    writer.remove(tmp_path / "x")
    writer.remove(tmp_path / "x")
    assert (writer.written, writer.removed) == (2, 1)
