"""``kexue-archive search`` through the real entry point, on archives the real build made."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from search_truth import fold, matching, quoted, sample_queries
from support import SEEDS, drain

from kexue_archive.archive import load_articles
from kexue_archive.lock import locked
from kexue_archive.records import Article


def kexue(*args: str, tty: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m kexue_archive ARGS``; with ``tty``, stdout is a pseudo-terminal."""
    command = [sys.executable, "-m", "kexue_archive", *args]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    scratch = tempfile.mkdtemp(prefix="kexue-search-")  # default outputs (site/) never land in the repo
    if not tty:
        return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=scratch)
    leader, follower = os.openpty()
    with subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, text=True, env=env, cwd=scratch) as proc:
        os.close(follower)
        shown = drain(leader)
        stderr = proc.stderr.read() if proc.stderr else ""
    return subprocess.CompletedProcess(command, proc.returncode, shown.decode(), stderr)


def built(seeds: Path, root: Path) -> tuple[Path, list[Article]]:
    done = kexue("build", "--seeds", str(seeds), "--archive", str(root), "-q")
    assert done.returncode == 0, done.stderr
    return root, load_articles(root)


@pytest.fixture(scope="module")
def seeds_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Article]]:
    return built(SEEDS, tmp_path_factory.mktemp("cli-seeds") / "archive")


@pytest.fixture(scope="module")
def corpus_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Article]]:
    from bench.corpus import generate

    base = tmp_path_factory.mktemp("cli-corpus")
    generate(300, base / "seeds", seed=21)
    return built(base / "seeds", base / "archive")


def found(root: Path, *query: str, options: tuple[str, ...] = ()) -> list[dict[str, object]]:
    done = kexue("search", "--archive", str(root), "--json", "--limit", "100000", *options, "--", *query)
    assert done.returncode in (0, 1), done.stderr
    hits: list[dict[str, object]] = json.loads(done.stdout)
    assert done.returncode == (0 if hits else 1)
    return hits


@pytest.mark.parametrize("which", ["seeds_built", "corpus_built"])
def test_hit_sets_equal_a_brute_force_scan(which: str, request: pytest.FixtureRequest) -> None:
    root, articles = request.getfixturevalue(which)
    samples = sample_queries(articles, seed=3, per_kind=3)
    for kind, terms in samples.items():
        for term in terms:
            expected = matching(articles, term)
            assert {h["id"] for h in found(root, quoted(term))} == expected, (kind, term)
    for word in ("Transformer", "transformer", "ＴＲＡＮＳＦＯＲＭＥＲ", "擴散模型", "熵"):
        assert {h["id"] for h in found(root, word)} == matching(articles, word), word


def test_json_hits_carry_the_promised_keys(seeds_built: tuple[Path, list[Article]]) -> None:
    root, articles = seeds_built
    by_id = {a.id: a for a in articles}
    hits = found(root, "模型")
    assert hits
    for h in hits:
        assert {"id", "title", "date", "readers", "score", "snippet", "path"} <= set(h)
        a = by_id[str(h["id"])]
        assert (h["title"], h["date"], h["readers"]) == (a.title, a.date, a.readers)
        assert h["path"] == f"articles/{a.id}.html"
        assert isinstance(h["score"], float)


def test_plain_output_marks_whole_matches_with_brackets(seeds_built: tuple[Path, list[Article]]) -> None:
    root, _ = seeds_built
    done = kexue("search", "--archive", str(root), "擴散模型", "--limit", "3")
    assert done.returncode == 0 and "\x1b[" not in done.stdout
    assert done.stdout.count("[扩散模型]") >= 3
    assert re.search(r"^\d+ articles match; showing 3 by relevance", done.stdout)
    lines = done.stdout.splitlines()
    for hit in found(root, "擴散模型", options=("--limit", "3")):
        at = next(i for i, line in enumerate(lines) if f" · {hit['id']} · articles/{hit['id']}.html" in line)
        readers = "? readers" if hit["readers"] is None else f"{hit['readers']} readers"
        assert lines[at].strip().startswith(f"{hit['date'] or '?'} · {readers}")
        assert lines[at - 1].replace("[", "").replace("]", "").endswith(str(hit["title"]))
        assert "[" in lines[at + 1]


def test_a_terminal_gets_colour(seeds_built: tuple[Path, list[Article]]) -> None:
    root, _ = seeds_built
    done = kexue("search", "--archive", str(root), "LoRA", tty=True)
    assert done.returncode == 0, done.stderr
    assert "\x1b[1;33mLoRA\x1b[0m" in done.stdout and "[LoRA]" not in done.stdout


def test_no_hits_exits_1(seeds_built: tuple[Path, list[Article]]) -> None:
    root, _ = seeds_built
    done = kexue("search", "--archive", str(root), "量子引力弦论")
    assert done.returncode == 1 and done.stdout == ""
    assert "no article matches" in done.stderr


def test_a_reader_that_stops_early_gets_no_traceback(seeds_built: tuple[Path, list[Article]]) -> None:
    """`kexue-archive search 的 | head -1`: the pipe closes before the output is written."""
    root, _ = seeds_built
    command = [sys.executable, "-m", "kexue_archive", "search", "--archive", str(root), "--limit", "30", "的"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line
        stderr = proc.stderr.read()
        code = proc.wait(timeout=600)
    assert code == 141 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


@pytest.mark.parametrize(
    "args",
    [
        ['"生成函数'], ["扩散", "OR"], ["--", "-熵"], ["()"], ["模型", "--limit", "0"], ["模型", "--sort", "title"],
        ["模型", "--since", "yesterday"], ["模型", "--field", "author"], ["模型", "--year", "twenty"],
    ],
)
def test_usage_errors_exit_2_with_one_line_and_a_hint(seeds_built: tuple[Path, list[Article]], args: list[str]) -> None:
    root, _ = seeds_built
    done = kexue("search", "--archive", str(root), *args)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr and done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1


def test_query_options_and_operators(seeds_built: tuple[Path, list[Article]]) -> None:
    root, articles = seeds_built
    expected = matching(articles, "模型") - matching(articles, "扩散")
    assert {h["id"] for h in found(root, "模型", "-扩散")} == expected
    assert {h["id"] for h in found(root, "模型", "NOT", "扩散")} == expected
    assert {h["id"] for h in found(root, "LoRA", "OR", "熵")} == matching(articles, "lora") | matching(articles, "熵")
    assert {h["id"] for h in found(root, "title:模型")} == matching(articles, "模型", ["title"])
    assert {h["id"] for h in found(root, "模型", options=("--field", "title"))} == matching(articles, "模型", ["title"])
    year_hits = found(root, "的", options=("--year", "2023"))
    assert {h["id"] for h in year_hits} == {a.id for a in articles if a.year == 2023 and a.id in matching(articles, "的")}
    dated = [str(h["date"]) for h in found(root, "的", options=("--sort", "date"))]
    full = [d for d in dated if not d.startswith("--") and d != "None"]
    assert full == sorted(full, reverse=True) and dated[: len(full)] == full


def test_title_matches_come_first(seeds_built: tuple[Path, list[Article]]) -> None:
    root, articles = seeds_built
    in_title = matching(articles, "模型", ["title"])
    flags = [h["id"] in in_title for h in found(root, "模型")]
    assert True in flags and False in flags and flags == sorted(flags, reverse=True)


def test_missing_or_stale_index_says_run_the_build(seeds_built: tuple[Path, list[Article]], tmp_path: Path) -> None:
    root = tmp_path / "archive"
    shutil.copytree(seeds_built[0], root)
    meta = root / "index" / "kexue-index.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "schema": 0}))
    for _ in range(2):
        done = kexue("search", "--archive", str(root), "模型")
        assert done.returncode == 2 and "missing or stale" in done.stderr and "kexue-archive build" in done.stderr
        assert "Traceback" not in done.stderr
        shutil.rmtree(root / "index", ignore_errors=True)  # first stale, then missing
    rebuilt = kexue("build", "--seeds", str(SEEDS), "--archive", str(root), "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert {h["id"] for h in found(root, "模型")} == matching(seeds_built[1], "模型")
    nowhere = kexue("search", "--archive", str(tmp_path / "nowhere"), "模型")
    assert nowhere.returncode == 2 and "no archive" in nowhere.stderr


def test_a_search_meeting_an_index_update_waits_for_the_build(seeds_built: tuple[Path, list[Article]], tmp_path: Path) -> None:
    """Between Whoosh's commit and the build's note of it the index looks stale; a search
    then waits for the build holding the archive's lock, says so, and answers from its index."""
    root = tmp_path / "archive"
    shutil.copytree(seeds_built[0], root)
    meta = root / "index" / "kexue-index.json"
    good = meta.read_bytes()
    command = [sys.executable, "-m", "kexue_archive", "search", "--archive", str(root), "--json", "--limit", "1000", "模型"]
    with locked(root):  # a build, mid-way through its index update
        meta.write_text(json.dumps({**json.loads(good), "files": []}))
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None and "waiting for the build running in pid" in proc.stderr.readline()
        assert proc.poll() is None  # still waiting
        meta.write_bytes(good)  # the build notes the index it wrote, then lets go of the lock
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert {h["id"] for h in json.loads(out)} == matching(seeds_built[1], "模型")
    meta.write_text(json.dumps({**json.loads(good), "files": []}))  # stale with no build running: no wait
    done = kexue("search", "--archive", str(root), "模型")
    assert done.returncode == 2 and "missing or stale" in done.stderr and "waiting" not in done.stderr


def test_snippets_show_the_folded_match(corpus_built: tuple[Path, list[Article]]) -> None:
    root, articles = corpus_built
    for term in sample_queries(articles, seed=9, per_kind=4)["traditional"]:
        for h in found(root, term):
            spans = h["highlights"]
            assert isinstance(spans, list) and isinstance(h["snippet"], str)
            title_spans = h["title_highlights"]
            assert spans or title_spans, (term, h["id"])
            assert all(fold(h["snippet"][s:e]).startswith(fold(term)) for s, e in spans)
