"""The merge: the right articles from the seeds, and the algebra of a join."""

from __future__ import annotations

import random
from difflib import SequenceMatcher

from hypothesis import given, settings
from hypothesis import strategies as st
from support import SEED_FILES, SEEDS

from kexue_archive.archive import article_dict
from kexue_archive.build import read_dump
from kexue_archive.merge import COMPARE_CHARS, MIN_COMPARE_CHARS, SIMILARITY, alike, from_sighting, join, merge
from kexue_archive.records import Article, Sighting
from kexue_archive.sources import dump_of
from kexue_archive.text import fingerprint_id, squash, title_id


def seed_sightings() -> list[Sighting]:
    out: list[Sighting] = []
    for name in SEED_FILES:
        data = (SEEDS / name).read_bytes()
        out += read_dump(name, dump_of(SEEDS / name, SEEDS, data), data).sightings
    return out


def test_seeds_give_34_articles() -> None:
    sightings = seed_sightings()
    articles = merge(sightings)
    assert len(sightings) == 37
    assert len(articles) == 34
    assert sum(1 for a in articles if a.title is None) == 2


def test_cross_dump_merges_take_the_best_of_each() -> None:
    by_title = {a.title: a for a in merge(seed_sightings())}
    heat = by_title["用热传导方程来指导自监督学习"]
    assert heat.date == "2022-11-30"  # the listing's full date beats the home page's --11-30
    assert heat.readers == 31471 and heat.author == "苏剑林"
    assert [(s.file[:3], s.line, s.readers) for s in heat.sources] == [("001", 2, 31471), ("004", 57, None)]
    # 004 dropped a 、 and added a caption: both versions are kept apart by a flag, the longer wins.
    assert "excerpt-conflict" in heat.flags and "year-unknown" not in heat.flags
    assert heat.excerpt.endswith("热方程的热力图(左)和视觉模型的热力图(右)")
    assert "excerpt-conflict" not in by_title["缓解交叉熵过度自信的一个简明方案"].flags


def test_untitled_sighting_joins_its_titled_twin_and_keeps_its_id_as_alias() -> None:
    titled = Sighting("a.txt", 1, "标题（一）：测试", "苏剑林", "2020-12-11", 10, "这是一段足够长的摘要文字，用来判断两个摘要是否几乎相同。" * 2)
    untitled = Sighting("b.txt", 5, None, None, "--12-11", None, titled.excerpt.replace("，", ",", 1) + "\n\n图片说明")
    [article] = merge([titled, untitled])
    assert article.id == title_id("标题（一）：测试")
    assert article.aliases == (fingerprint_id(untitled.excerpt, untitled.date),)
    assert article.title == "标题（一）：测试" and article.date == "2020-12-11"


def test_untitled_on_another_day_stays_apart() -> None:
    titled = Sighting("a.txt", 1, "标题", "苏剑林", "2020-12-11", 10, "这是一段足够长的摘要文字，用来判断两个摘要是否几乎相同。" * 2)
    untitled = Sighting("b.txt", 5, None, None, "--12-12", None, titled.excerpt)
    assert len(merge([titled, untitled])) == 2


def test_original_typography_beats_nfkc() -> None:
    a = Sighting("a", 1, "变分自编码器(八):估计", None, None, None, "")
    b = Sighting("b", 1, "变分自编码器（八）：估计", None, None, None, "")
    [article] = merge([a, b])
    assert article.title == "变分自编码器（八）：估计"


# -- the algebra ------------------------------------------------------------

TITLES = st.sampled_from([None, "扩散模型（一）：入门", "扩散模型(一):入门", "LoRA", "lora", "熵"])
DATES = st.sampled_from([None, "2020-12-11", "2021-12-11", "--12-11", "--11-11"])
EXCERPTS = st.sampled_from(["", "甲乙丙丁戊己庚辛" * 5, "甲乙丙丁戊己庚辛" * 5 + "\n\n壬癸", "甲乙丙丁戊己庚申" * 5, "$x$ 与 $y"])
sightings = st.builds(
    Sighting,
    file=st.sampled_from(["a.txt", "b.txt", "c.txt"]),
    line=st.integers(1, 5),
    title=TITLES,
    author=st.sampled_from([None, "苏剑林", "苏剑林 "]),
    date=DATES,
    readers=st.one_of(st.none(), st.integers(0, 100)),
    excerpt=EXCERPTS,
    url=st.sampled_from([None, "https://spaces.ac.cn/archives/1", "https://spaces.ac.cn/archives/2"]),
    flags=st.sampled_from([(), ("truncated",), ("title-missing",)]),
)
articles = sightings.map(from_sighting)


@given(articles, articles)
def test_join_is_commutative(a: Article, b: Article) -> None:
    assert join(a, b) == join(b, a)


@given(articles, articles, articles)
def test_join_is_associative(a: Article, b: Article, c: Article) -> None:
    assert join(join(a, b), c) == join(a, join(b, c))


@given(articles, articles)
def test_join_is_idempotent(a: Article, b: Article) -> None:
    assert join(a, a) == a
    ab = join(a, b)
    assert join(ab, b) == ab and join(ab, a) == ab


def yaml_of(found: list[Article]) -> list[dict[str, object]]:
    return [article_dict(a) for a in found]


@settings(max_examples=60)
@given(st.lists(sightings, max_size=12), st.randoms(use_true_random=False))
def test_merge_ignores_order_and_repetition(items: list[Sighting], rnd: random.Random) -> None:
    shuffled = items[:]
    rnd.shuffle(shuffled)
    assert yaml_of(merge(items)) == yaml_of(merge(shuffled)) == yaml_of(merge(items + shuffled))


@settings(max_examples=30)
@given(st.randoms(use_true_random=False))
def test_seed_merge_ignores_order(rnd: random.Random) -> None:
    items = seed_sightings()
    shuffled = items[:]
    rnd.shuffle(shuffled)
    assert yaml_of(merge(items)) == yaml_of(merge(shuffled))


def test_two_articles_never_claim_the_same_alias() -> None:
    """Series parts often open alike: two untitled re-crawls sharing a long opening
    join different articles, each under an id of its own."""
    opening = "本文是系列文章的一篇，我们继续讨论这个问题的各个方面，从不同的角度来理解它。" * 2
    first = Sighting("a.txt", 1, "系列（一）", "苏剑林", "2020-12-11", 1, opening + "第一部分的内容在这里展开。")
    second = Sighting("a.txt", 3, "系列（二）", "苏剑林", "2021-12-11", 1, opening + "第二部分讨论的是另外的内容。")
    recrawls = [Sighting("b.txt", n, None, None, "--12-11", None, s.excerpt) for n, s in ((1, first), (5, second))]
    articles = merge([first, second, *recrawls])
    aliases = [alias for a in articles for alias in a.aliases]
    assert len(articles) == 2 and len(aliases) == len(set(aliases)) == 2


_EXCERPT_CHARS = st.sampled_from("扩散模型的采样过程可以看成是一个随机微分方程 abcxyz，。0123")


@settings(max_examples=300, deadline=None)
@given(st.text(_EXCERPT_CHARS, min_size=20, max_size=120), st.data())
def test_alike_is_difflib_ratio_above_the_threshold(x: str, data: st.DataObject) -> None:
    """The cheap bounds `alike` tries first never change its answer: it is difflib's
    ratio of the squashed openings when that reaches the threshold, else 0."""
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(x)), st.text(_EXCERPT_CHARS, max_size=3)), max_size=6))
    y = x
    for at, text in edits:  # mostly near-copies, so both sides of the threshold are met
        y = y[:at] + text + y[at + len(text):]
    a, b = squash(x), squash(y)
    n = min(len(a), len(b), COMPARE_CHARS)
    ratio = SequenceMatcher(None, a[:n], b[:n], autojunk=False).ratio() if n >= MIN_COMPARE_CHARS else 0.0
    assert alike(x, y) == (ratio if ratio >= SIMILARITY else 0.0)
