"""Fuzzing the readers: no input crashes them, and no well-formed article is lost."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SEED_FILES, SEEDS

from kexue_archive.readers import read_text
from kexue_archive.sources import decode

SEED_TEXTS = [(SEEDS / name).read_text(encoding="utf-8") for name in SEED_FILES]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=4000))
def test_random_bytes_never_crash(data: bytes) -> None:
    decoded = decode(data, "fuzz.bin")
    if decoded.text is not None:
        read_text(decoded.text, "fuzz.bin")


@st.composite
def mutated_seed(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SEED_TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["drop", "dup", "swap", "cut", "insert"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            break
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            lines.insert(i, draw(st.text(max_size=40)))
    return "\n".join(lines)


@FAST
@given(mutated_seed())
def test_mutated_seeds_never_crash(text: str) -> None:
    _, reading = read_text(text, "mutant.txt")
    for s in reading.sightings:
        assert s.line >= 1


JUNK = st.text(alphabet=st.characters(blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=60).filter(
    lambda s: "最近评论" not in s and not s.lstrip().startswith("By") and s.strip() != "点击阅读全文..."
)
BYLINE = st.builds(
    "By {} | {:04d}-{:02d}-{:02d} | {}位读者 | 引用{}".format,
    st.sampled_from(["苏剑林", "Su Jianlin"]), st.integers(2009, 2025), st.integers(1, 12), st.integers(1, 28),
    st.integers(0, 10**6), JUNK,
)


@FAST
@given(st.lists(st.tuples(st.lists(JUNK, max_size=3), BYLINE), min_size=1, max_size=8), st.lists(JUNK, max_size=3))
def test_every_well_formed_byline_yields_a_record(blocks: list[tuple[list[str], str]], tail: list[str]) -> None:
    lines = [line for junk, byline in blocks for line in (*junk, byline)] + tail
    _, reading = read_text("\n".join(lines), "listing.txt")
    assert len(reading.sightings) == len(blocks)
    dates = [s.date for s in reading.sightings]
    assert dates == [b.split(" | ")[1] for _, b in blocks]
