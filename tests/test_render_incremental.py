"""Change-driven site rebuilds on a generated corpus: after every step the site the build
brought up to date is byte-identical to a fresh full render of the same archive, and a
rebuild after adding 20 articles draws a number of pages that does not grow with the archive."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from search_truth import sample_queries
from support import ROOT

from kexue_archive import build as build_module
from kexue_archive import index, katex_node
from kexue_archive.archive import load_articles
from kexue_archive.build import BuildResult, build
from kexue_archive.records import Article
from kexue_archive.render import render_site
from kexue_archive.site_state import STATE

sys.path.insert(0, str(ROOT))  # bench/ is a folder of scripts at the repo root: the corpus generator
from bench import corpus

#: Pages one new article may touch: its own, two date neighbours, its month and year pages,
#: a series page and a series neighbour, plus index/content/search/popular/quality once.
BOUND = 20 * 8 + 10


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != STATE}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("incremental")
    corpus.generate(300, base / "seeds", seed=3)
    return base


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Article]:
    """120 records of a generated archive, for the tests that damage a site."""
    base = tmp_path_factory.mktemp("generated")
    corpus.generate(120, base / "seeds", seed=5)
    build(base / "seeds", base / "archive")
    return load_articles(base / "archive")


def step(base: Path, name: str) -> BuildResult:
    """Build the archive and its site, then check the site against a fresh full render, and
    the index (updated beside the render) against one built afresh."""
    result = build(base / "seeds", base / "archive", site=base / "site")
    articles = load_articles(base / "archive")
    fresh = base / f"fresh-{name}"
    render_site(fresh, articles, result.problems, full=True, cache_dir=base / "archive" / ".cache" / "math")
    incremental, full = tree(base / "site"), tree(fresh)
    assert sorted(incremental) == sorted(full), name
    assert [p for p in full if incremental[p] != full[p]] == [], name
    index_like_a_fresh_one(base / "archive", articles, base / f"fresh-{name}-archive")
    return result


def index_like_a_fresh_one(root: Path, articles: list[Article], afresh: Path) -> None:
    """The index in ``root`` answers sampled queries exactly as one built afresh from ``articles``."""
    index.index_articles(afresh, articles, full=True)
    queries = [q for qs in sample_queries(articles, seed=len(articles), per_kind=3).values() for q in qs]
    for q in [*queries, "的 OR a OR 1"]:
        found = [[(h.id, h.title) for h in index.search(where, q, limit=10**6).hits] for where in (root, afresh)]
        assert found[0] == found[1], q


def test_every_step_matches_a_full_render(project: Path) -> None:
    seeds = project / "seeds"
    first = step(project, "initial")
    assert first.site is not None and first.site.rendered == first.site.pages

    corpus.add_dump(seeds, 20)
    added = step(project, "plus20")
    assert added.site is not None and len(added.change.changed) == 20
    assert 20 <= added.site.rendered <= BOUND, added.site

    # an article seen only as a title-less home card, then under its title
    state = corpus.json.loads((seeds / corpus.STATE).read_text())
    card, *retitled = corpus.articles(state["next"], state["next"] + 8, state["seed"])
    home = corpus.home_dump([card], random.Random(0))
    (seeds / "untitled.txt").write_text(home.replace(f"\n\n{card.title}\n\n", "\n\n"), encoding="utf-8")
    # and some new articles first seen with NFKC titles only (their full-width titles come later)
    (seeds / "nfkc.txt").write_text(corpus.listing_dump(retitled, nfkc_titles=True), encoding="utf-8")
    untitled = step(project, "untitled")
    assert untitled.site is not None and untitled.site.rendered <= BOUND
    (seeds / "titled.txt").write_text(corpus.listing_dump([card]), encoding="utf-8")
    titled = step(project, "titled")
    assert titled.change.removed, "the title-less record should have become an alias of the titled one"
    assert any(a.aliases for a in load_articles(project / "archive"))

    # existing articles re-crawled: more readers, NFKC titles, and earlier dates (they move months);
    # the NFKC-titled ones seen under their original titles (which win: the titles change)
    (seeds / "fullwidth.txt").write_text(corpus.listing_dump(retitled), encoding="utf-8")
    old = corpus.articles(0, 30, state["seed"])
    moved = [dataclasses.replace(a, date=(dt.date.fromisoformat(a.date) - dt.timedelta(days=40)).isoformat())
             for a in old[:10]]
    (seeds / "recrawl_more.txt").write_text(corpus.listing_dump(old[10:], nfkc_titles=True, bump=5000), encoding="utf-8")
    (seeds / "recrawl_dates.txt").write_text(corpus.listing_dump(moved), encoding="utf-8")
    changed = step(project, "changed")
    assert changed.site is not None and len(changed.change.changed) >= 20
    titles = {a.title for a in load_articles(project / "archive")}
    assert sum(a.title in titles for a in retitled) >= 5 and any(a.title != corpus.nfkc(a.title) for a in retitled)
    assert changed.site.rendered <= BOUND

    nothing = build(seeds, project / "archive", site=project / "site")
    assert nothing.site is not None and nothing.site.rendered == 0 and nothing.written == 0


def test_a_damaged_site_state_draws_everything_again(generated: list[Article], tmp_path: Path) -> None:
    site = tmp_path / "site"
    articles = generated
    render_site(site, articles)
    before = tree(site)
    (site / STATE).write_text("{not json")
    again = render_site(site, articles)
    assert again.rendered == again.pages and tree(site) == before


def test_a_damaged_search_shard_is_rebuilt_from_the_records(generated: list[Article], tmp_path: Path) -> None:
    from kexue_archive.site_layout import shard_of

    site = tmp_path / "site"
    articles = generated
    render_site(site, articles)
    target = next(a for a in articles if shard_of(a.id) == 3)
    shard = site / "assets/search/03.js"
    shard.write_text(shard.read_text().replace('",', '"damaged",', 1))
    newer = [dataclasses.replace(a, readers=(a.readers or 0) + 1) if a is target else a for a in articles]
    result = render_site(site, newer)
    assert result.rendered <= 10
    render_site(tmp_path / "fresh", newer)
    assert tree(site) == tree(tmp_path / "fresh")


def test_pages_of_an_older_site_layout_are_removed(generated: list[Article], tmp_path: Path) -> None:
    """A site drawn by version 1 (count-based pages, one search file) is cleaned up, not left behind."""
    import json

    site = tmp_path / "site"
    for rel in ("page/2.html", "assets/search-index.js", "index.html"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text("old")
    (site / STATE).write_text(json.dumps({"version": 1, "pages": {"page/2.html": "x", "index.html": "y"}}))
    articles = generated[:50]
    result = render_site(site, articles)
    assert result.removed == 2 and not (site / "page/2.html").exists() and not (site / "assets/search-index.js").exists()
    render_site(tmp_path / "fresh", articles)
    assert tree(site) == tree(tmp_path / "fresh")


def test_an_alias_claimed_twice_gets_one_redirect_and_a_no_op_draws_nothing(generated: list[Article], tmp_path: Path) -> None:
    """Two records may list the same old id (the archive's aliases.yaml gives it to the larger id)."""
    a, b, c = sorted(generated[:3], key=lambda x: x.id)
    claimed = [dataclasses.replace(a, aliases=("u00000000001",)), dataclasses.replace(b, aliases=("u00000000001", c.id)),
               c, *generated[3:60]]
    site = tmp_path / "site"
    first = render_site(site, claimed)
    assert first.rendered == first.pages
    page = (site / "articles/u00000000001.html").read_text()
    assert f'url={b.id}.html"' in page
    assert render_site(site, claimed).rendered == 0
    assert f'data-article="{c.id}"' in (site / f"articles/{c.id}.html").read_text()  # c keeps its own page


def test_cards_keep_their_openings_between_renders(generated: list[Article], tmp_path: Path) -> None:
    """A month page redrawn for one edited article takes its other cards' openings from the cache
    (site_fragments): no other record is loaded, and the site is what a render with no cache makes."""
    from kexue_archive.site_records import Records

    cache, site = tmp_path / "cache" / "math", tmp_path / "site"
    render_site(site, generated, cache_dir=cache)
    months = Counter(a.date[:7] for a in generated if a.date and not a.date.startswith("--"))
    dated = next(a for a in generated if a.date and months[a.date[:7]] >= 3 and a.math)  # a card among others
    edited = [dataclasses.replace(a, excerpt=a.excerpt + "新加的一句。") if a is dated else a for a in generated]
    records, loaded = Records.of(edited), []

    def load(ids: Iterable[str]) -> list[Article]:
        loaded.extend(ids)
        return list(records.load(ids))

    result = render_site(site, Records(records.summaries, load), cache_dir=cache)
    assert result.rendered >= 2 and (site / f"page/{(dated.date or '')[:7]}.html").is_file()
    assert sorted(loaded) == [dated.id]  # its own page, its shard line and its card: not the other cards
    fresh = tmp_path / "fresh"
    render_site(fresh, edited)  # no math cache, no openings cache
    assert tree(site) == tree(fresh)
    (tmp_path / "cache" / "fragments.sqlite").write_bytes(b"not a database, " * 300)  # damaged: started afresh
    render_site(site, edited, cache_dir=cache, full=True)
    assert tree(site) == tree(fresh)


def test_year_pages_keep_their_month_sections_between_renders(
        generated: list[Article], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A year page redrawn for one retitled article draws only that article's month section
    again; the others come from the cache (site_fragments), and the site is what a render
    with no cache makes."""
    from kexue_archive import site_fragments

    cache, site = tmp_path / "cache" / "math", tmp_path / "site"
    render_site(site, generated, cache_dir=cache)
    dated = next(a for a in generated if a.date and not a.date.startswith("--"))
    year = [a for a in generated if a.date and a.date[:4] == dated.date[:4]]
    assert len({a.date[5:7] for a in year if a.date}) >= 3  # the year page has other months to keep
    edited = [dataclasses.replace(a, title=f"{a.title}（修订）") if a is dated else a for a in generated]
    drawn: list[Any] = []
    real = site_fragments.draw_section
    monkeypatch.setattr(site_fragments, "draw_section", lambda env, m, root: drawn.append(m["month"]) or real(env, m, root))
    render_site(site, edited, cache_dir=cache)
    assert drawn == [int(dated.date[5:7])]
    fresh = tmp_path / "fresh"
    render_site(fresh, edited)
    assert tree(site) == tree(fresh)


def test_a_full_render_takes_nothing_from_the_caches_and_prunes_the_math_cache(
        generated: list[Article], tmp_path: Path) -> None:
    """`--full` is the way out of a cache gone wrong: every cached formula, opening and
    year section is drawn again, and math cache entries no record reads are deleted."""
    import json
    import sqlite3

    cache, site = tmp_path / "cache" / "math", tmp_path / "site"
    render_site(site, generated, cache_dir=cache)
    entries = sorted(cache.rglob("*.json"))
    assert entries
    for path in entries:  # well-formed, the right number of formulas, and wrong
        path.write_text(json.dumps([[True, "<b>POISONED</b>", ""]] * len(json.loads(path.read_bytes()))))
    stale = cache / "00" / ("0" * 64 + ".json")
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("[]")
    with sqlite3.connect(tmp_path / "cache" / "fragments.sqlite") as db:
        assert db.execute("UPDATE fragments SET html = '<b>POISONED</b>'").rowcount > 0
    render_site(site, generated, cache_dir=cache, full=True)
    assert not [p for p in site.rglob("*.html") if "POISONED" in p.read_text()]
    fresh = tmp_path / "fresh"
    render_site(fresh, generated)
    assert tree(site) == tree(fresh)
    assert not stale.exists() and sorted(cache.rglob("*.json")) == entries


def test_the_pieces_cache_drops_what_no_page_shows_once_it_took_in_as_many_again(
        generated: list[Article], tmp_path: Path) -> None:
    """Re-crawls that change every excerpt and reader count supersede every card opening and
    year section (site_fragments keys them by what they show); the cache stays within twice what
    the site shows instead of growing by all of it each time, and the site stays what no cache makes."""
    import sqlite3

    cache, site = tmp_path / "cache" / "math", tmp_path / "site"
    months = {(a.date or "")[:7] for a in generated}

    def rows() -> int:
        with sqlite3.connect(tmp_path / "cache" / "fragments.sqlite") as db:
            return int(db.execute("SELECT count(*) FROM fragments").fetchone()[0])

    counts = []
    for crawl in range(5):
        recrawled = [dataclasses.replace(a, readers=(a.readers or 0) + crawl, excerpt=f"{a.excerpt}第{crawl}次。")
                     for a in generated]
        render_site(site, recrawled, cache_dir=cache)
        counts.append(rows())
    assert counts[0] >= len(generated)  # every card's opening, and the year pages' sections
    assert max(counts) <= 2 * (len(generated) + len(months)), counts  # untidied, it would hold all five crawls'
    assert counts[-1] >= len(generated)
    fresh = tmp_path / "fresh"
    render_site(fresh, recrawled)
    assert tree(site) == tree(fresh)


def test_a_recrawl_that_changes_only_reader_counts_draws_no_card_opening_again(
        generated: list[Article], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cards show reader counts, so the pages listing them are drawn again; the openings of
    their text and math are not: they are kept by what they show, which did not change."""
    from kexue_archive import render

    cache, site = tmp_path / "cache" / "math", tmp_path / "site"
    render_site(site, generated, cache_dir=cache)
    drawn: list[str] = []
    real = render.opening_html
    monkeypatch.setattr(render, "opening_html", lambda excerpt, math: drawn.append(excerpt) or real(excerpt, math))
    recrawled = [dataclasses.replace(a, readers=(a.readers or 0) + 7) for a in generated]
    result = render_site(site, recrawled, cache_dir=cache)
    assert result.rendered > len(generated)  # every article page, and the month pages listing them
    assert drawn == []
    fresh = tmp_path / "fresh"
    render_site(fresh, recrawled)
    assert tree(site) == tree(fresh)


def test_a_rebuild_with_new_dumps_starts_node_once_before_reading_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Node loads KaTeX (~0.15 s) while the new dumps are read and indexed, and the render
    takes that process over; a build with nothing new starts none."""
    corpus.generate(60, tmp_path / "seeds", seed=9)
    build(tmp_path / "seeds", tmp_path / "archive", site=tmp_path / "site")
    events: list[str] = []
    real_start, real_read = katex_node.Started.__init__, build_module.read_dump

    def start(self: katex_node.Started, command: list[str]) -> None:
        events.append("node")
        real_start(self, command)

    monkeypatch.setattr(katex_node.Started, "__init__", start)
    monkeypatch.setattr(build_module, "read_dump", lambda *a: events.append("read") or real_read(*a))
    nothing = build(tmp_path / "seeds", tmp_path / "archive", site=tmp_path / "site")
    assert events == [] and nothing.site is not None and nothing.site.rendered == 0
    corpus.add_dump(tmp_path / "seeds", 5)
    added = build(tmp_path / "seeds", tmp_path / "archive", site=tmp_path / "site")
    assert added.site is not None and added.site.rendered >= 5
    assert events == ["node", "read"]


def _forks_of(pid: int) -> list[int]:
    """The children of ``pid`` running its own program (its forks; Node, which it also starts, is not)."""
    own = Path(f"/proc/{pid}/cmdline").read_bytes()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and (stat.parent / "cmdline").read_bytes() == own:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux) to find the build's child")
def test_a_build_killed_while_its_index_is_written_beside_leaves_no_writer_and_the_next_build_completes(
        tmp_path: Path) -> None:
    """kill -9 a real build the moment its forked index writer exists: the kernel stops the
    writer with it (nothing goes on writing the index, nor holds its files), and the next build
    brings archive, site and index to what they would be after one clean build."""
    seeds, root, site = tmp_path / "seeds", tmp_path / "archive", tmp_path / "site"
    corpus.generate(150, seeds, seed=11)
    build(seeds, root, site=site)
    indexed_before = json.loads((root / "index" / "digests.json").read_text())["digests"]
    corpus.add_dump(seeds, 1000)  # enough documents that the writer cannot be done when the build is killed
    script = "import sys; from pathlib import Path; from kexue_archive.build import build; build(*map(Path, sys.argv[1:3]), site=Path(sys.argv[3]))"
    proc = subprocess.Popen([sys.executable, "-c", script, str(seeds), str(root), str(site)], cwd=ROOT)
    writer, deadline = None, time.monotonic() + 60
    while writer is None and proc.poll() is None and time.monotonic() < deadline:
        seen = _forks_of(proc.pid)
        time.sleep(0.02)  # a fork that is about to run another program (Node) has done so by now
        writer = next((pid for pid in seen if pid in _forks_of(proc.pid)), None)
    proc.kill()
    proc.wait()
    assert writer is not None, "the build ended without forking its index writer"
    deadline = time.monotonic() + 5
    while _alive(writer) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(writer), "the index writer outlived the build it was forked by"
    assert json.loads((root / "index" / "digests.json").read_text())["digests"] == indexed_before  # it was stopped
    again = build(seeds, root, site=site)
    articles = load_articles(root)
    index_like_a_fresh_one(root, articles, tmp_path / "afresh")
    render_site(tmp_path / "fresh-site", articles, again.problems, full=True, cache_dir=root / ".cache" / "math")
    assert tree(site) == tree(tmp_path / "fresh-site")
