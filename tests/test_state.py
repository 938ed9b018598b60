"""The build state: regrouping only what new sightings can touch gives what merging everything gives."""

from __future__ import annotations

import tempfile
from itertools import pairwise
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kexue_archive.merge import merge, merge_groups
from kexue_archive.records import Sighting
from kexue_archive.state import State, Update, article_json

#: Near-copies of two openings (the merge matches a title-less sighting by its opening).
OPENINGS = [
    "SimCLR以来,CV中关于无监督特征学习的工作层出不穷,让人眼花缭乱。这些工作大多数都是基于对比学习的。",
    "SimCLR以来，CV中关于无监督特征学习的工作层出不穷，让人眼花缭乱。这些工作大多数都是基于对比学习的。\n\n图片说明",
    "扩散模型的采样过程可以看成是求解一个随机微分方程,本文从这个角度出发,重新推导了DDPM与DDIM的联系。",
    "扩散模型的采样过程可以看成是求解一个随机微分方程,本文从这个角度出发,重新推导了DDPM与DDIM的关系。",
]
SIGHTINGS = st.tuples(
    st.sampled_from(["从动力学角度看优化算法", "生成扩散模型漫谈", "Ｌｏｒａ的简明推导", "LoRA的简明推导", None, None]),
    st.sampled_from(["苏剑林", None]),
    st.sampled_from(["2020-12-11", "--12-11", "2021-12-11", "--12-12", "2020-12-12", None]),
    st.sampled_from([None, 100, 4321]),
    st.sampled_from(OPENINGS),
)


@settings(max_examples=100, deadline=None)
@example([(None, None, None, None, OPENINGS[0]), (None, None, None, None, OPENINGS[1])], [1])  # undated twins
@example([(None, None, "--12-11", None, OPENINGS[0]), ("从动力学角度看优化算法", "苏剑林", "2020-12-11", 4321, OPENINGS[1]),
          ("生成扩散模型漫谈", None, "2021-12-11", None, OPENINGS[0])], [1, 2])  # a later title claims it, then a better one
@given(st.lists(SIGHTINGS, min_size=1, max_size=14), st.lists(st.integers(0, 14), max_size=4))
def test_regrouping_what_new_sightings_touch_equals_merging_everything(
        drawn: list[tuple[str | None, str | None, str | None, int | None, str]], cuts: list[int]) -> None:
    """Dumps arriving one at a time (each cut starts a new dump), regrouped through
    ``State.affected`` as a build does, end as the merge of every sighting at once."""
    bounds = [0, *sorted({min(c, len(drawn)) for c in cuts}), len(drawn)]
    batches = [[Sighting(f"d{b}.txt", line + 1, *fields) for line, fields in enumerate(drawn[lo:hi])]
               for b, (lo, hi) in enumerate(pairwise(bounds)) if hi > lo]
    with tempfile.TemporaryDirectory() as folder, State(Path(folder) / "state.sqlite") as state:
        for b, batch in enumerate(batches):
            known, old_ids = state.affected(batch)
            groups = merge_groups([*known, *batch])
            state.apply(Update(
                dumps=[(f"{b:064x}", f"d{b}.txt", "text", len(batch), ())], sightings=[(f"{b:064x}", s) for s in batch],
                groups=groups, digests=[(a, article_json(a)) for a, _ in groups],
                removed=sorted(old_ids - {a.id for a, _ in groups}), meta={},
            ))
        stored = {a.id: article_json(a) for a in state.articles()}
    assert stored == {a.id: article_json(a) for a in merge([s for batch in batches for s in batch])}
