"""Which pages a change touches: the site plan worked out from the last render's, not afresh.

Every page's signature (:mod:`site_layout`) is a digest of what it shows, and
what it shows is a few records' summaries. So once the records that changed
since the last render are known (their digests differ from the site state's
rows), the pages whose signatures can differ are known too:

- the article page of a changed record, and of the records next to it by date,
  before and after the change (the next one that did not change, on each side:
  the only pages whose newer/older links can move);
- in a series one of them was or is part of, the same: the nearest unchanged
  members on each side (every member when the last part changed: a series is
  named after its last part), and the series' page;
- the month and year pages they were or are on; all of them when a month or a
  year appears or goes (every such page links the ones beside it);
- the home, contents, popular, search and series index pages (cheap: always).

Every other page keeps its last signature. Anything this reasoning does not
cover falls back to working out every page, as a full render does: records
with aliases (who owns an alias depends on other records), a page whose file
is missing, a page with no last signature, a change to more than a quarter of
the records. ``tests/test_site_plan.py`` holds the result equal to
:func:`site_layout.specs` on random changes.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from .series import series_id
from .site_layout import Layout, Only, Spec, Summary, month_of, paths, specs, year_of
from .site_records import row_part

#: A change to more than 1/SHARE of the records gets a full plan: by then it is as cheap.
SHARE = 4


Change = tuple[set[str], set[str]]


def plan(layout: Layout, old_rows: Mapping[str, Sequence[Any]], old_sigs: Mapping[str, str],
         existing: Collection[str], change: Change) -> tuple[dict[str, str], list[Spec]]:
    """Every page's signature, and the pages worked out this time (all of them, or those a change touches).

    ``old_rows`` and ``old_sigs`` are the last render's (its state file: summary rows and page
    signatures), ``existing`` the files the site holds, ``change`` what :func:`changes` found.
    A page not worked out has its last signature and its file: the caller draws only pages
    worked out whose signature changed."""
    only = touched(layout, old_rows, change)
    if only is not None:
        worked = specs(layout, only)
        sigs = {p.path: p.sig for p in worked}
        for path in paths(layout):
            if path not in sigs:
                sig = old_sigs.get(path)
                if sig is None or path not in existing:
                    break  # a page the reasoning above does not vouch for: work them all out
                sigs[path] = sig
        else:
            return sigs, worked
    worked = specs(layout)
    return {p.path: p.sig for p in worked}, worked


def touched(layout: Layout, old_rows: Mapping[str, Sequence[Any]], change: Change) -> Only | None:
    """The pages whose signatures may differ from the last render's; None for all."""
    by_id = layout.by_id
    changed, gone = change
    if (len(changed) + len(gone)) * SHARE > max(len(by_id), 1):
        return None
    olds = {i: Summary.from_row(i, old_rows[i]) for i in (changed & old_rows.keys()) | gone}
    news = [by_id[i] for i in changed]
    if any(s.aliases for s in [*olds.values(), *news]) or any(i in layout.claimed for i in changed | gone):
        return None  # an alias changes hands with other records' ids and aliases
    moved = changed | gone
    articles = set(changed)
    ids = layout.ids
    for s in news:
        articles.update(_beside(ids, layout.position[s.id], moved))
    for s in olds.values():
        articles.update(_beside(ids, _slot(layout, s), moved))
    series = _series(layout, [_old_part_key(old_rows[i]) for i in olds], [layout.parts.get(i) for i in changed])
    for sid in series:
        articles.update(_series_neighbours(layout, sid, moved, olds, old_rows))
    return Only(
        articles=frozenset(articles),
        months=_pages(layout.months, [month_of(s.date) for s in news], [month_of(s.date) for s in olds.values()]),
        years=_pages(layout.years, [year_of(s.date) for s in news], [year_of(s.date) for s in olds.values()]),
        series=frozenset(series),
    )


def changes(layout: Layout, old_rows: Mapping[str, Sequence[Any]]) -> Change:
    """The records new or changed since the last render (their digests differ from its rows), and those
    gone: worked out once per render, for the page plan and the search shards."""
    changed = {i for i, s in layout.by_id.items() if (row := old_rows.get(i)) is None or row[0] != s.digest}
    return changed, set(old_rows.keys() - layout.by_id.keys())


def _beside(ids: Sequence[str], at: int, moved: Collection[str]) -> list[str]:
    """The nearest ids on each side of position ``at`` (not counting the one there) that did
    not change: the only unchanged ones whose neighbours a change there can alter."""
    out = []
    i = at - 1
    while i >= 0 and ids[i] in moved:
        i -= 1
    if i >= 0:
        out.append(ids[i])
    i = at
    while i < len(ids) and ids[i] in moved:
        i += 1
    if i < len(ids):
        out.append(ids[i])
    return out


def _slot(layout: Layout, old: Summary) -> int:
    """Where a record as it was would stand in today's date order (records that did not
    change keep their order, so its old neighbours among them are the ones beside this slot)."""
    return bisect.bisect_left(layout.ordered, _order(old), key=_order)


class _Later(str):
    """A date that sorts the other way: newest first."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)


def _order(s: Summary) -> tuple[int, _Later, str]:
    """The key of :func:`site_layout.in_date_order` (which sorts three times, faster)."""
    group = 2 if s.date is None else 1 if s.date.startswith("-") else 0
    return group, _Later(s.date or ""), s.id


def _old_part_key(row: Sequence[Any]) -> str | None:
    part = row_part(row)
    return part[1] if part else None


def _series(layout: Layout, old_keys: Iterable[str | None], new_parts: Iterable[Any]) -> set[str]:
    """The series (ids) that gained, lost or changed a member: their pages change, and their members' series links may."""
    keys = {k for k in old_keys if k} | {p.key for p in new_parts if p is not None}
    present = {s.id for s in layout.series}
    return {sid for k in keys if (sid := series_id(k)) in present}


def _series_neighbours(layout: Layout, sid: str, moved: Collection[str], olds: Mapping[str, Summary],
                       old_rows: Mapping[str, Sequence[Any]]) -> list[str]:
    """The members of a touched series whose series links a change can alter: the nearest
    unchanged ones on each side of each changed member, as it is and as it was (all of
    them when the last part is or was a changed one: the series' name is the last part's)."""
    s = next(x for x in layout.series if x.id == sid)
    keys = [_part_order(number, layout.by_id[aid]) for number, aid in s.members]
    ids = [aid for _, aid in s.members]
    slots = [i for i, aid in enumerate(ids) if aid in moved]
    for aid, old in olds.items():
        part = row_part(old_rows[aid])
        if part and series_id(part[1]) == sid:
            slots.append(bisect.bisect_left(keys, _part_order(part[2], old)))
    if any(at >= len(ids) - 1 for at in slots):
        return ids  # the last part changed: the name may have
    out = []
    for at in slots:
        out += _beside(ids, at, moved)
    return out


def _part_order(number: int, s: Summary) -> tuple[int, str, str]:
    """The order of a series' members (``series.group``)."""
    return number, s.date or "", s.id


def _pages(groups: Mapping[str, Sequence[Summary]], new: list[str], old: list[str]) -> frozenset[str] | None:
    """The month (or year) pages a change touches; None (all) when one appears or goes:
    each links the pages beside it."""
    keys = set(new) | set(old)
    came, went = Counter(new), Counter(old)
    for k in keys:
        now = len(groups.get(k, ()))
        if now == 0 or now - came[k] + went[k] == 0:
            return None
    return frozenset(keys)
