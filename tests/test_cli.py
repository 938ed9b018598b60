"""The CLI through its real entry point (the installed console script)."""

from __future__ import annotations

import json
from pathlib import Path

from support import ROOT, drain, run_cli

from kexue_archive.archive import load_articles

KEYS = ["id", "title", "author", "date", "readers", "excerpt", "math", "url", "sources", "flags"]


def test_build_site_py_is_the_build_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(ROOT / "build_site.py"), "--seeds", str(ROOT / "seeds"), "--archive", str(tmp_path / "a")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "34 records from 5 dumps (5 new, 37 sightings, 3 merged); 34 records new or changed, 0 gone;" in done.stdout
    again = subprocess.run(
        [sys.executable, str(ROOT / "build_site.py"), "--seeds", str(ROOT / "seeds"), "--archive", str(tmp_path / "a")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert "(0 new, 37 sightings, 3 merged); 0 records new or changed, 0 gone; 0 files written;" in again.stdout


def test_list_json_prints_every_record_with_every_key(seeds_archive: Path) -> None:
    done = run_cli("list", "--json", "--archive", str(seeds_archive))
    assert done.returncode == 0
    records = json.loads(done.stdout)
    assert len(records) == 34
    assert all(list(r) == KEYS for r in records)
    by_id = {a.id: a for a in load_articles(seeds_archive)}
    for r in records:
        a = by_id[r["id"]]
        assert (r["title"], r["date"], r["readers"], r["excerpt"]) == (a.title, a.date, a.readers, a.excerpt)


def test_list_sorts_and_filters(seeds_archive: Path) -> None:
    def listed(*args: str) -> list[dict[str, object]]:
        done = run_cli("list", "--json", "--archive", str(seeds_archive), *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    by_date = [r["date"] for r in listed()]
    full = [d for d in by_date if d and not str(d).startswith("--")]
    assert full == sorted(full, reverse=True) and by_date[: len(full)] == full  # year-unknown after dated
    readers = [r["readers"] for r in listed("--sort", "readers")]
    known = [r for r in readers if r is not None]
    assert known == sorted(known, reverse=True) and readers[: len(known)] == known and known[0] == 195995
    y2023 = listed("--year", "2023")
    assert len(y2023) == 10 and all(str(r["date"]).startswith("2023-") for r in y2023)
    titles = [r["title"] for r in listed("--sort", "title")]
    assert titles[-2:] == [None, None]


def test_list_text_output(seeds_archive: Path) -> None:
    lines = run_cli("list", "--archive", str(seeds_archive)).stdout.splitlines()
    assert len(lines) == 34
    assert lines[0].startswith("2024-09-19") and lines[0].endswith("Softmax后传:寻找Top-K的光滑近似")
    assert any(line.endswith("(untitled)") for line in lines)


def test_show_by_id_prefix_and_json(seeds_archive: Path) -> None:
    article = next(a for a in load_articles(seeds_archive) if a.title == "用热传导方程来指导自监督学习")
    done = run_cli("show", article.id[:6], "--archive", str(seeds_archive))
    assert done.returncode == 0
    assert done.stdout.startswith("用热传导方程来指导自监督学习\nid: " + article.id)
    assert "flags: excerpt-conflict" in done.stdout and "001_21cf883cf368c9e5.txt:2" in done.stdout
    as_json = json.loads(run_cli("show", article.id, "--json", "--archive", str(seeds_archive)).stdout)
    assert list(as_json) == KEYS and as_json["date"] == "2022-11-30"


def test_user_errors_are_one_line_with_a_hint(tmp_path: Path, seeds_archive: Path) -> None:
    missing = run_cli("list", "--archive", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"kexue-archive: error: no archive at {tmp_path / 'nowhere'}",
        "hint: run `kexue-archive build` (or `python build_site.py`) first",
    ]
    unknown = run_cli("show", "zzzzzz", "--archive", str(seeds_archive))
    assert unknown.returncode == 2 and "no article with id 'zzzzzz'" in unknown.stderr and "Traceback" not in unknown.stderr
    no_seeds = run_cli("build", "--seeds", str(tmp_path / "none"), "--archive", str(tmp_path / "a"))
    assert no_seeds.returncode == 2 and "no seeds folder" in no_seeds.stderr
    usage = run_cli("list", "--sort", "nonsense")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


def _build_on_a_terminal(seeds: Path, out: Path, *extra: str) -> tuple[str, str]:
    """``kexue-archive build`` with stderr on a pseudo-terminal of 120 columns (tqdm draws
    nothing on a terminal of no width); returns (stdout, what the terminal showed)."""
    import fcntl
    import os
    import shutil
    import struct
    import subprocess
    import sys
    import termios

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    exe = shutil.which("kexue-archive")
    command = [exe] if exe else [sys.executable, "-m", "kexue_archive"]
    proc = subprocess.Popen([*command, "build", "--seeds", str(seeds), "--archive", str(out / "archive"),
                             "--site", str(out / "site"), *extra], stdout=subprocess.PIPE, stderr=follower, cwd=out)
    os.close(follower)
    shown = drain(leader)
    stdout = proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, shown.decode(errors="replace")
    return stdout.decode(), shown.decode(errors="replace")


def test_a_build_on_a_terminal_shows_progress_for_each_long_stage(tmp_path: Path) -> None:
    """Progress bars for the stages with enough work (records, indexing, math, pages), on a
    terminal only, cleared when done; none with -q, and none when stderr is not a terminal."""
    import re
    import sys

    sys.path.insert(0, str(ROOT))  # bench/ is a folder of scripts at the repo root: the corpus generator
    from bench import corpus

    seeds = tmp_path / "seeds"
    corpus.generate(150, seeds, seed=4)
    (tmp_path / "a").mkdir()
    stdout, shown = _build_on_a_terminal(seeds, tmp_path / "a")
    bars = set(re.findall(r"\r(\w+):\s+\d+%", shown))
    assert bars == {"records", "indexing", "math", "pages"}, shown[-2000:]
    drawn = re.search(r"site: (\d+)/\d+ pages drawn", stdout)
    assert drawn is not None and "150 records from" in stdout and "%|" not in stdout
    assert set(re.findall(r"\rpages:\s+\d+%\|[^\r]*\| \d+/(\d+)", shown)) == {drawn[1]}  # every page drawn, counted
    assert set(re.findall(r"\rrecords:\s+\d+%\|[^\r]*\| \d+/(\d+)", shown)) == {"150"}
    (tmp_path / "q").mkdir()
    _, quiet = _build_on_a_terminal(seeds, tmp_path / "q", "-q")
    assert "%|" not in quiet
    piped = run_cli("build", "--seeds", str(seeds), "--archive", str(tmp_path / "p" / "archive"),
                    "--site", str(tmp_path / "p" / "site"))
    assert piped.returncode == 0 and "%|" not in piped.stderr
