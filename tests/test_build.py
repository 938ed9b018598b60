"""Whole-build properties on the real seeds: determinism, incrementality, safety."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, SEED_FILES, SEEDS, run_cli

from kexue_archive.archive import from_yaml, load_articles
from kexue_archive.build import UNFINISHED, build


def snapshot(root: Path) -> dict[str, bytes]:
    """Every committed file of an archive (derived caches and the index excluded)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in (".cache", "index")
    }


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def full_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The site of one build of all the seeds."""
    base = tmp_path_factory.mktemp("full-site")
    build(SEEDS, base / "archive", site=base / "site")
    return files(base / "site")


def seeds_subset(tmp_path: Path, names: list[str], folder: str = "seeds") -> Path:
    seeds = tmp_path / folder
    seeds.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(SEEDS / name, seeds / name)
    return seeds


@pytest.fixture(scope="module")
def full_snapshot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("full") / "archive"
    build(SEEDS, root)
    return snapshot(root)


def test_seeds_build(seeds_archive: Path) -> None:
    articles = load_articles(seeds_archive)
    assert len(articles) == 34
    assert len(list((seeds_archive / "records").glob("*.yaml"))) == 34
    assert len(list((seeds_archive / "dumps").glob("*.yaml"))) == 5
    report = (seeds_archive / "report.txt").read_text()
    assert "records: 34 (3 sightings merged into others)" in report
    assert "  title-missing: 2" in report


def test_record_files_have_exactly_the_documented_keys(seeds_archive: Path) -> None:
    for path in (seeds_archive / "records").glob("*.yaml"):
        record = from_yaml(path.read_bytes())
        assert list(record) == ["id", "title", "author", "date", "readers", "excerpt", "math", "url", "sources", "flags"]
        assert path.stem == record["id"]


def test_second_build_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    first = build(SEEDS, root)
    assert first.written == 5 + 34 + 3  # ledgers, records, aliases + report + manifest
    mtimes = file_times(root)
    second = build(SEEDS, root)
    assert (second.new_dumps, second.written, second.removed) == (0, 0, 0)
    assert file_times(root) == mtimes


def test_a_build_with_nothing_new_imports_neither_whoosh_nor_the_renderer(tmp_path: Path) -> None:
    """What keeps a no-op rebuild quick: the index and the site are checked from their state
    files alone, so Whoosh, Jinja, Markdown and the renderer are never imported."""
    root, site = tmp_path / "archive", tmp_path / "site"
    build(SEEDS, root, site=site)
    script = ("import sys; from pathlib import Path; from kexue_archive.build import build; "
              "r = build(*map(Path, sys.argv[1:3]), site=Path(sys.argv[3])); assert r.site.rendered == 0 and r.written == 0; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('whoosh', 'jinja2', 'markdown') "
              "or m in ('kexue_archive.render', 'kexue_archive.index.writer')))")
    done = subprocess.run([sys.executable, "-c", script, str(SEEDS), str(root), str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def file_times(root: Path) -> dict[Path, int]:
    """Modification times of everything but the lock (which notes the builder's pid)."""
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file() and p.name != "build.lock"}


def test_rebuild_and_full_are_byte_identical(tmp_path: Path, full_snapshot: dict[str, bytes]) -> None:
    root = tmp_path / "archive"
    build(SEEDS, root)
    build(SEEDS, root, full=True)
    assert snapshot(root) == full_snapshot


@pytest.mark.parametrize(
    "batches",
    [
        [[4], [3], [2], [1], [0]],
        [[0, 2, 4], [1, 3]],
        [[3, 4], [0], [1, 2]],
        [[1], [0, 1, 2, 3, 4]],
    ],
)
def test_any_split_into_batches_equals_one_full_build(
    tmp_path: Path, batches: list[list[int]], full_snapshot: dict[str, bytes], full_site: dict[str, bytes]
) -> None:
    """Archive and site alike (the site's state file included)."""
    root = tmp_path / "archive"
    seeds = tmp_path / "seeds"
    for batch in batches:
        seeds_subset(tmp_path, [SEED_FILES[i] for i in batch])
        build(seeds, root, site=tmp_path / "site")
    assert snapshot(root) == full_snapshot
    built = files(tmp_path / "site")
    assert sorted(built) == sorted(full_site)
    assert [rel for rel in full_site if built[rel] != full_site[rel]] == []


def test_a_deleted_dump_is_remembered(tmp_path: Path, full_snapshot: dict[str, bytes]) -> None:
    root = tmp_path / "archive"
    seeds = seeds_subset(tmp_path, SEED_FILES)
    build(seeds, root)
    (seeds / SEED_FILES[0]).unlink()
    build(seeds, root)
    build(seeds, root, full=True)
    assert snapshot(root) == full_snapshot


def test_renamed_dump_changes_nothing(tmp_path: Path, full_snapshot: dict[str, bytes]) -> None:
    root = tmp_path / "archive"
    seeds = seeds_subset(tmp_path, SEED_FILES)
    build(seeds, root)
    (seeds / SEED_FILES[2]).rename(seeds / "renamed.txt")
    result = build(seeds, root)
    assert result.written == 0
    assert snapshot(root) == full_snapshot


BAD_INPUTS = {
    "empty.txt": (b"", "empty.txt:0: warning: empty file"),
    "binary.dat": (bytes(range(256)) * 4, "binary.dat:0: error: binary file"),
    "notes.txt": ("随便写的笔记\n没有任何文章\n".encode(), "notes.txt:1: error: unknown layout"),
    "gbk.txt": (
        "测试文章\nBy 苏剑林 | 2021-01-02 | 5位读者 | 引用摘要文字很长很长的一段\n".encode("gbk"),
        "gbk.txt:0: info: decoded as gb18030",
    ),
    "dollar.txt": (
        "价格文章\nBy 苏剑林 | 2021-01-03 | 5位读者 | 引用第一行\n这本书售价 $5,很便宜\n".encode(),
        "dollar.txt:3: warning: unbalanced math: stray '$'",
    ),
    "badline.txt": (
        "好文章\nBy 苏剑林 | 2021-13-45 | 5位读者 | 引用文字\n".encode(),
        "badline.txt:2: warning: impossible date '2021-13-45'",
    ),
}


def test_bad_input_is_reported_and_the_build_goes_on(tmp_path: Path) -> None:
    seeds = seeds_subset(tmp_path, SEED_FILES)
    for name, (data, _) in BAD_INPUTS.items():
        (seeds / name).write_bytes(data)
    done = run_cli("build", "--seeds", str(seeds), "--archive", str(tmp_path / "archive"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for _, expected in BAD_INPUTS.values():
        assert expected in done.stderr
    articles = load_articles(tmp_path / "archive")
    assert {"测试文章", "价格文章", "好文章"} <= {a.title for a in articles} and len(articles) == 34 + 3
    strict = run_cli("build", "--strict", "--seeds", str(seeds), "--archive", str(tmp_path / "archive"))
    assert strict.returncode == 1
    clean = run_cli("build", "--strict", "-q", "--seeds", str(SEEDS), "--archive", str(tmp_path / "clean"))
    assert clean.returncode == 1  # the seeds themselves disagree on one excerpt: a warning


CRASH_SCRIPT = "import sys; from pathlib import Path; from kexue_archive.build import build; build(Path(sys.argv[1]), Path(sys.argv[2]))"


def test_killed_at_every_write_the_next_build_completes(tmp_path: Path, full_snapshot: dict[str, bytes]) -> None:
    """A build stopped right after its k-th write, for every k, leaves an archive
    the next build completes to exactly the clean result."""
    total = len(full_snapshot)
    for k in range(1, total + 1):
        root = tmp_path / f"archive-{k}"
        # start from a half-built archive so removals and rewrites are crossed too
        half = tmp_path / f"half-{k}"
        seeds_subset(tmp_path, SEED_FILES[:2], folder=f"half-{k}")
        build(half, root)
        shutil.rmtree(half)
        env = {"KEXUE_CRASH_AFTER_WRITES": str(k)}
        killed = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(SEEDS), str(root)], env={**_env(), **env}, cwd=ROOT)
        assert killed.returncode in (0, 137)
        build(SEEDS, root)
        assert snapshot(root) == full_snapshot, f"after a crash at write {k}"


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_real_sigkill_mid_build(tmp_path: Path, full_snapshot: dict[str, bytes]) -> None:
    """kill -9 a real build process at a few moments; the next build repairs all."""
    for delay in (0.05, 0.15, 0.3):
        root = tmp_path / f"archive-{delay}"
        proc = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(SEEDS), str(root)], cwd=ROOT)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        build(SEEDS, root)
        assert snapshot(root) == full_snapshot


def test_two_concurrent_builds_do_not_corrupt(tmp_path: Path, full_snapshot: dict[str, bytes]) -> None:
    root = tmp_path / "archive"
    procs = [
        subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(SEEDS), str(root)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert snapshot(root) == full_snapshot
    assert not list(root.rglob("*.tmp"))
    assert any("waiting for the build" in out for out in outputs) or all(not out for out in outputs)


def test_lost_cache_is_rebuilt_from_the_archive_without_rewriting(tmp_path: Path, full_snapshot: dict[str, bytes]) -> None:
    root = tmp_path / "archive"
    build(SEEDS, root)
    shutil.rmtree(root / ".cache")
    again = build(SEEDS, root)
    assert (again.new_dumps, again.written, again.removed) == (0, 0, 0)
    assert snapshot(root) == full_snapshot


HOME_DUMP = "11 Dec\n\n{excerpt}\n\n点击阅读全文...\n"
LISTING_DUMP = "{title}\nBy 苏剑林 | 2020-12-11 | 4321位读者 | 引用{excerpt}\n最近评论\n"
EXCERPT = "SimCLR以来,CV中关于无监督特征学习的工作层出不穷,让人眼花缭乱。这些工作大多数都是基于对比学习的,即通过适当的方式构造正负样本进行分类学习的。"


def test_untitled_article_learns_its_title_in_a_later_build(tmp_path: Path) -> None:
    seeds, root = tmp_path / "seeds", tmp_path / "archive"
    seeds.mkdir()
    (seeds / "home.txt").write_text(HOME_DUMP.format(excerpt=EXCERPT))
    build(seeds, root)
    [untitled] = load_articles(root)
    assert untitled.title is None and untitled.date == "--12-11"
    (seeds / "listing.txt").write_text(LISTING_DUMP.format(title="从动力学角度看优化算法（三）：一个更整体的视角", excerpt=EXCERPT))
    second = build(seeds, root)
    assert second.change.removed == (untitled.id,)
    [titled] = load_articles(root)
    assert titled.aliases == (untitled.id,) and titled.date == "2020-12-11" and titled.readers == 4321
    assert not (root / "records" / f"{untitled.id}.yaml").exists()
    assert from_yaml((root / "aliases.yaml").read_bytes()) == {untitled.id: titled.id}
    fresh = tmp_path / "fresh"
    build(seeds, fresh)
    assert snapshot(fresh) == snapshot(root)


def test_new_reader_version_reads_every_dump_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_snapshot: dict[str, bytes]) -> None:
    import kexue_archive.build as build_module

    root = tmp_path / "archive"
    build(SEEDS, root)
    monkeypatch.setattr(build_module, "READER_VERSION", build_module.READER_VERSION + 1)
    again = build(SEEDS, root)
    assert again.new_dumps == 5 and again.written == 1  # only the manifest's reader_version changes
    assert from_yaml((root / "manifest.yaml").read_bytes())["reader_version"] == build_module.READER_VERSION
    assert {k: v for k, v in snapshot(root).items() if k != "manifest.yaml"} == {k: v for k, v in full_snapshot.items() if k != "manifest.yaml"}


def test_seeds_with_nothing_readable_build_an_empty_archive_index_and_site(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "notes.txt").write_text("只是一些笔记\n")
    done = run_cli("build", "--seeds", str(seeds), "--archive", str(tmp_path / "archive"), "--site", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    assert "0 records from 1 dumps" in done.stdout and "notes.txt:1: error: unknown layout" in done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    search = run_cli("search", "熵", "--archive", str(tmp_path / "archive"))
    assert search.returncode == 1 and "Traceback" not in search.stderr


def test_new_merge_version_rebuilds_the_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_snapshot: dict[str, bytes]) -> None:
    import kexue_archive.build as build_module

    root = tmp_path / "archive"
    build(SEEDS, root)
    monkeypatch.setattr(build_module, "MERGE_VERSION", build_module.MERGE_VERSION + 1)
    again = build(SEEDS, root)
    assert again.new_dumps == 0 and again.change.generation == 1  # state rebuilt from the ledgers, nothing read
    assert snapshot(root) == full_snapshot


def test_a_killed_writes_temporary_files_are_swept_by_the_next_build(tmp_path: Path, full_snapshot: dict[str, bytes]) -> None:
    root, site, elsewhere = tmp_path / "archive", tmp_path / "site", tmp_path / "other-site"
    build(SEEDS, root)
    assert not (root / UNFINISHED).exists()  # a finished build leaves no mark: the next one walks nothing
    script = CRASH_SCRIPT.replace("Path(sys.argv[2]))", "Path(sys.argv[2]), site=Path(sys.argv[3]))")
    killed = subprocess.run([sys.executable, "-c", script, str(SEEDS), str(root), str(elsewhere)],
                            env={**_env(), "KEXUE_CRASH_AFTER_WRITES": "1"}, cwd=ROOT)
    assert killed.returncode == 137 and (root / UNFINISHED).exists()  # killed while drawing other-site
    stale = [root / "records" / ".0228877e64fe.yaml.4242.tmp", root / ".manifest.yaml.4242.tmp",
             elsewhere / "articles" / ".x.html.4242.tmp", site / "articles" / ".y.html.4242.tmp"]
    for path in stale:  # what the killed build (rendering into other-site) left half-written
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a file")
    build(SEEDS, root, site=site)
    assert not [p for p in stale if p.exists()]
    assert snapshot(root) == full_snapshot and not (root / UNFINISHED).exists()
