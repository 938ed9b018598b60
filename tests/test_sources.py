"""Finding dumps and decoding them: never a silent guess."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from support import SEEDS

from kexue_archive.sources import decode, find_dumps

SAMPLE = (SEEDS / "003_568cb4270ae5d56a.txt").read_text(encoding="utf-8")


def test_finds_every_seed_in_order(tmp_path: Path) -> None:
    assert [p.name for p in find_dumps(SEEDS)] == sorted(p.name for p in SEEDS.iterdir())
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in find_dumps(tmp_path)] == ["a.txt", "sub/b.txt"]
    assert find_dumps(tmp_path / "missing") == []


def test_plain_utf8_is_silent() -> None:
    decoded = decode(SAMPLE.encode("utf-8"), "f")
    assert decoded.text == SAMPLE and decoded.encoding == "utf-8" and decoded.problem is None


@pytest.mark.parametrize(("encoding", "reported"), [("utf-8-sig", None), ("utf-16", "utf-16"), ("utf-32", "utf-32")])
def test_byte_order_marks(encoding: str, reported: str | None) -> None:
    decoded = decode(SAMPLE.encode(encoding), "f")
    assert decoded.text == SAMPLE
    if reported is None:
        assert decoded.problem is None
    else:
        assert decoded.problem is not None and reported in decoded.problem.message


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_is_detected_and_reported(encoding: str) -> None:
    decoded = decode(SAMPLE.encode(encoding), "old.txt")
    assert decoded.text == SAMPLE
    assert decoded.problem is not None
    assert str(decoded.problem).startswith("old.txt:0: info: decoded as gb18030")


def test_short_gbk_by_line() -> None:
    text = "用热传导方程来指导自监督学习\nBy 苏剑林 | 2022-11-30 | 31471位读者 | 引用用理论物理来卷机器学习\n"
    assert decode(text.encode("gbk"), "f").text == text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (bytes(range(256)) * 8, "binary file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(1, 256)) * 8, "not text"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "does not decode"),
    ],
)
def test_unreadable_files_are_reported(data: bytes, message: str) -> None:
    decoded = decode(data, "bad.bin")
    assert decoded.text is None
    assert decoded.problem is not None and message in decoded.problem.message
    assert decoded.problem.severity in ("warning", "error")
