"""`kexue-archive add`: new dumps in, duplicates and unreadable files out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import SEED_FILES, SEEDS, run_cli

from kexue_archive.archive import load_articles


def test_add_copies_new_skips_known_rejects_bad_then_builds(tmp_path: Path) -> None:
    seeds, archive, incoming = tmp_path / "seeds", tmp_path / "archive", tmp_path / "incoming"
    seeds.mkdir()
    incoming.mkdir()
    shutil.copy(SEEDS / SEED_FILES[0], seeds / SEED_FILES[0])
    assert run_cli("build", "-q", "--seeds", str(seeds), "--archive", str(archive)).returncode == 0
    shutil.copy(SEEDS / SEED_FILES[0], incoming / "same-content.txt")
    shutil.copy(SEEDS / SEED_FILES[1], incoming / SEED_FILES[0])  # a name clash with other content
    (incoming / "photo.bin").write_bytes(bytes(range(256)) * 4)
    (incoming / "notes.txt").write_text("只是一些笔记\n")
    done = run_cli("add", str(incoming), str(SEEDS / SEED_FILES[2]), "--seeds", str(seeds), "--archive", str(archive))
    assert done.returncode == 0, done.stderr
    assert "same-content.txt: already in" in done.stderr
    assert "photo.bin:0: error: binary file" in done.stderr and "notes.txt:1: error: unknown layout" in done.stderr
    assert "added 2 dump(s)" in done.stdout
    names = sorted(p.name for p in seeds.iterdir())
    assert len(names) == 3 and SEED_FILES[2] in names
    assert any(n.startswith("000_3d58166289bafc77-") for n in names)  # renamed, not overwritten
    assert (seeds / SEED_FILES[0]).read_bytes() == (SEEDS / SEED_FILES[0]).read_bytes()
    assert len(load_articles(archive)) == 7 + 8 + 6
    again = run_cli("add", str(SEEDS / SEED_FILES[2]), "--seeds", str(seeds), "--archive", str(archive))
    assert "already in" in again.stderr and "0 new" in again.stdout


def test_add_names_a_missing_path(tmp_path: Path) -> None:
    done = run_cli("add", str(tmp_path / "nope.txt"), "--seeds", str(tmp_path / "s"), "--archive", str(tmp_path / "a"))
    assert done.returncode == 2 and "no such file or folder" in done.stderr and "Traceback" not in done.stderr


def test_add_does_not_read_again_the_dumps_the_last_build_hashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """seeds/ is checked with the build's own record of hashes (size and mtime unchanged): only new files are read."""
    import hashlib

    from kexue_archive import sources
    from kexue_archive.build import build
    from kexue_archive.intake import add
    from kexue_archive.state import STATE_PATH, known_hashes

    seeds, archive = tmp_path / "seeds", tmp_path / "archive"
    seeds.mkdir()
    for name in SEED_FILES[:3]:
        shutil.copy(SEEDS / name, seeds / name)
    build(seeds, archive)
    (seeds / SEED_FILES[1]).touch()  # a newer mtime: this one must be read again
    hashed: list[int] = []

    class Counting:
        @staticmethod
        def sha256(data: bytes) -> object:
            hashed.append(len(data))
            return hashlib.sha256(data)

    monkeypatch.setattr(sources, "hashlib", Counting)
    with known_hashes(archive / STATE_PATH) as known:
        done = add([SEEDS / SEED_FILES[0], SEEDS / SEED_FILES[3]], seeds, known)
    assert done.duplicates == (str(SEEDS / SEED_FILES[0]),) and done.copied == (SEED_FILES[3],)
    assert hashed == [(seeds / SEED_FILES[1]).stat().st_size]
    with known_hashes(tmp_path / "no-archive" / STATE_PATH) as nothing:  # no state: everything is read
        assert nothing("x", 1, 2) is None
