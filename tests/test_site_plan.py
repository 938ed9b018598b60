"""The site plan worked out from the last render's: every page's signature equals a full plan's,
and every page whose signature changed (or that is new) is among those worked out again."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kexue_archive.series import parse
from kexue_archive.site_layout import Layout, Summary, in_date_order, paths, specs
from kexue_archive.site_plan import _order, changes, plan, touched
from kexue_archive.site_records import part_row

TITLES = ["生成扩散模型漫谈(一):DDPM", "生成扩散模型漫谈(二):DDIM", "生成扩散模型漫谈(三)", "生成扩散模型漫谈（十）：新名字",
          "Transformer升级之路:2、旋转位置编码", "Transformer升级之路:3、外推", "TRANSFORMER 升级之路:4、改名", "熵的一个注记",
          "Lion优化器", None]
DATES = ["2023-01-05", "2023-01-20", "2023-02-01", "2023-02-01", "2022-12-31", "2024-06-01", "--03-04", "--07-01", None]
#: Dates no background record has: a change there makes a month or a year appear or go.
LONE = ["2021-05-05", "2023-03-03"]
#: One record: (id, digest, title, date, readers, aliases); ids come from a small pool so changes collide.
RECORD = st.tuples(
    st.sampled_from([f"{n:012x}" for n in range(12)]), st.sampled_from(["d1", "d2", "d3"]), st.sampled_from(TITLES),
    st.sampled_from(DATES + LONE), st.sampled_from([None, 10, 500]),
    st.sampled_from([(), (), (), (), (), (), ("a00000000001",), ("000000000003",)]),
)
Row = tuple[str, str, "str | None", "str | None", "int | None", tuple[str, ...]]
#: Records every example holds, unchanged, so that its changes stay below the planner's full-plan share.
#: (Not the last parts of series: a change that makes one last renames its series.)
BACKGROUND: list[Row] = [(f"b{n:011x}", "d", TITLES[(0, 1, 2, 4, 5, 7, 9)[n % 7]], DATES[n % len(DATES)], n, ()) for n in range(60)]


def summaries(records: list[Row]) -> list[Summary]:
    unique = {r[0]: r for r in records}  # the digest stands for everything, as a record digest does
    return [Summary(aid, f"{digest}{title}{date}{readers}{aliases}", title, date, readers, (), aliases)
            for aid, digest, title, date, readers, aliases in unique.values()]


def rendered(given: list[Summary]) -> tuple[Layout, dict[str, list[Any]], dict[str, str]]:
    """A render's layout and the state file it leaves: rows (as JSON gives them back) and signatures."""
    layout = Layout(given)
    rows = {s.id: [*s.row(), part_row(layout.parts.get(s.id))] for s in given}
    return layout, json.loads(json.dumps(rows)), {p.path: p.sig for p in specs(layout)}


@settings(max_examples=300, deadline=None)
@example([("000000000001", "d1", TITLES[0], DATES[0], None, ())],
         [("000000000001", "d1", TITLES[0], DATES[0], None, ()), ("000000000002", "d1", TITLES[1], DATES[1], None, ())], [])
@example([("000000000001", "d1", TITLES[0], DATES[0], None, ()), ("000000000002", "d1", TITLES[3], DATES[1], None, ())],
         [("000000000001", "d1", TITLES[0], DATES[0], None, ()), ("000000000002", "d1", TITLES[2], DATES[1], None, ())], [])
@given(st.lists(RECORD, max_size=8), st.lists(RECORD, max_size=8), st.lists(RECORD, max_size=3))
def test_a_plan_from_the_last_render_equals_a_full_plan(old: list[Row], new: list[Row], common: list[Row]) -> None:
    before, after = summaries(BACKGROUND + common + old), summaries(BACKGROUND + common + new)
    _, old_rows, old_sigs = rendered(before)
    layout, _, full = rendered(after)
    assert sorted(paths(layout)) == sorted(full)  # the cheap listing names every page, once
    sigs, worked = plan(layout, old_rows, old_sigs, set(old_sigs), changes(layout, old_rows))
    assert sigs == full
    redo = {path for path, sig in full.items() if old_sigs.get(path) != sig}
    assert redo <= {p.path for p in worked}


def test_a_small_change_works_out_few_pages() -> None:
    """The point of it: one new article in a year of articles is planned with a handful of pages."""
    year = [Summary(f"{n:012x}", f"d{n}", f"文章{n}", f"2023-{n % 12 + 1:02d}-{n % 28 + 1:02d}", n, (), ())
            for n in range(300)]
    new = Summary("ffffffffffff", "dnew", "新文章", "2023-05-06", 1, (), ())
    _, old_rows, old_sigs = rendered(year)
    layout, _, full = rendered([*year, new])
    only = touched(layout, old_rows, changes(layout, old_rows))
    assert only is not None and only.articles == {"ffffffffffff", *(s.id for s in layout.neighbours("ffffffffffff") if s)}
    assert only.months == {"2023-05"} and only.years == {"2023"}
    sigs, worked = plan(layout, old_rows, old_sigs, set(old_sigs), changes(layout, old_rows))
    assert sigs == full and len(worked) < 15


def test_a_missing_page_file_means_a_full_plan() -> None:
    year = [Summary(f"{n:012x}", f"d{n}", f"文章{n}", f"2023-01-{n % 28 + 1:02d}", n, (), ()) for n in range(40)]
    _, old_rows, old_sigs = rendered(year)
    layout, _, full = rendered(year)
    assert plan(layout, old_rows, old_sigs, set(old_sigs), changes(layout, old_rows))[1] == specs(layout, touched(layout, old_rows, changes(layout, old_rows)))
    gone = set(old_sigs) - {"articles/000000000007.html"}
    assert len(plan(layout, old_rows, old_sigs, gone, changes(layout, old_rows))[1]) == len(full)


@given(st.lists(RECORD, max_size=20))
def test_the_order_key_is_the_date_order(records: list[Row]) -> None:
    """The planner finds where a record stood with one sort key; the layout sorts three times."""
    given_ = summaries(records)
    assert in_date_order(given_) == sorted(given_, key=_order)


def test_titles_here_form_series() -> None:
    """The generated titles above exercise series (else the test above would miss series links)."""
    assert {p.key for t in TITLES if (p := parse(t))} == {"生成扩散模型漫谈", "transformer升级之路"}
