"""Markup readers on damaged input: cut anywhere, mutated at random, never a traceback.

Also: sniffing looks at content only, and every line number points where it says.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest
from golden_support import FIXTURES, ledger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SEEDS

from kexue_archive.readers import read_text
from kexue_archive.readers.common import Reading

PAGES = sorted((FIXTURES / "html").glob("*.html")) + sorted((FIXTURES / "rss").glob("*.xml"))
KIND = {
    "content.html": "html-content", "feed.xml": "rss", "feed-truncated.xml": "rss",
    **{p.name: "html-listing" for p in PAGES if p.name.startswith(("listing-", "category-", "search-"))},
    **{p.name: "html-article" for p in PAGES if p.name.startswith(("article-", "garbage"))},
}
#: Bits of markup that break parsers when dropped in anywhere.
SHRAPNEL = ["<", ">", "</div>", "<p>", "&", "&amp", "]]>", "<![CDATA[", "<!--", "\\begin{equation}", "$", "\x00", "\ufeff", "</html>"]


def check(text: str, reading: Reading) -> None:
    """Whatever was read, its line numbers are inside the text."""
    lines = max(1, len(text.splitlines()))
    for s in reading.sightings:
        assert 1 <= s.line <= lines, s
    for p in reading.problems:
        assert 0 <= p.line <= lines, p
        assert "\n" not in p.message


def test_every_fixture_is_sniffed_by_content() -> None:
    assert sorted(KIND) == sorted(p.name for p in PAGES)
    for page in PAGES:
        kind, _ = read_text(page.read_text(encoding="utf-8"), "dump.txt")  # the name says nothing
        assert kind == KIND[page.name], page.name


def test_text_seeds_are_not_taken_for_markup() -> None:
    for seed in sorted(SEEDS.iterdir()):
        kind, _ = read_text(seed.read_text(encoding="utf-8"), seed.name)
        assert kind is not None and kind.startswith("text-"), (seed.name, kind)


def test_renamed_fixture_reads_the_same(tmp_path: Path) -> None:
    page = FIXTURES / "html" / "article-lion.html"
    shutil.copy(page, tmp_path / "saved page.txt")
    renamed = ledger(tmp_path / "saved page.txt")
    original = ledger(page)
    assert renamed["kind"] == original["kind"] and renamed["sightings"] == original["sightings"]


@pytest.mark.parametrize("page", [p for p in PAGES if p.suffix == ".html" and p.name != "garbage.html"], ids=lambda p: p.name)
def test_sighting_lines_point_at_the_title(page: Path) -> None:
    lines = page.read_text(encoding="utf-8").splitlines()
    for s in ledger(page)["sightings"]:
        if s["title"] is not None:
            assert html.escape(s["title"], quote=False) in lines[s["line"] - 1], (s["line"], s["title"])


def test_feed_sighting_lines_point_at_the_item() -> None:
    lines = (FIXTURES / "rss" / "feed.xml").read_text(encoding="utf-8").splitlines()
    for s in ledger(FIXTURES / "rss" / "feed.xml")["sightings"]:
        assert lines[s["line"] - 1] == "<item>" and s["title"] in lines[s["line"]]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_cut_anywhere(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for end in range(0, len(text), max(1, len(text) // 40)):
        cut = text[:end]
        _, reading = read_text(cut, page.name)
        check(cut, reading)
        said = " ".join(p.message for p in reading.problems)
        if reading.sightings and page.suffix == ".html" and "<html" in cut and "</body>" not in cut:
            assert "page ends before </html>" in said or "truncated" in said, end
        if reading.sightings and page.suffix == ".xml":
            assert "feed ends before </rss>" in said, end


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    page=st.sampled_from(PAGES),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), st.sampled_from(["", *SHRAPNEL])), max_size=6),
)
def test_mutated_pages_never_crash(page: Path, edits: list[tuple[float, int, str]]) -> None:
    text = page.read_text(encoding="utf-8")
    for where, drop, insert in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + drop :]
    _, reading = read_text(text, page.name)
    check(text, reading)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["<", ">", "/", "a", "p", "div", "html", "rss", "item", "年", "(共1篇)", "By ", "|", "\n", "&", " "]), max_size=120))
def test_markup_soup_never_crashes(pieces: list[str]) -> None:
    text = "".join(pieces)
    kind, reading = read_text("<html>" + text, "soup.html")
    assert kind is not None
    check("<html>" + text, reading)
