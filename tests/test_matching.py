"""How matching.py checks a candidate's text: the count every query longer than one index term gets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kexue_archive.analysis import fold
from kexue_archive.matching import byte_counter, occurrence_counter, plain
from kexue_archive.query import occurrences

# Few distinct characters, so that queries recur, overlap and nearly match: CJK, words, symbols, spaces.
ALPHABET = "扩散模型散扩的熵哈ab1-$ \nＡ擴"
# ... and letters and digits outside ASCII (é, α, ٣), which are word characters beside a Latin word.
EDGES = "ab1-é α٣扩散 $"


@settings(max_examples=800)
@given(st.text(alphabet=ALPHABET, max_size=60), st.text(alphabet=ALPHABET, min_size=1, max_size=8))
def test_the_byte_count_agrees_with_the_definition(text: str, query: str) -> None:
    folded, needle = fold(text), fold(query).strip()
    if needle:
        expected = len(list(occurrences(needle, folded)))
        assert occurrence_counter(needle)(folded) == expected
        encoded = plain(needle)
        assert encoded is None or folded.encode().count(encoded) == expected


@settings(max_examples=800)
@given(st.lists(st.text(alphabet=EDGES, max_size=30), min_size=1, max_size=4), st.text(alphabet=EDGES, min_size=1, max_size=5))
def test_counting_in_utf8_agrees_with_the_definition(texts: list[str], query: str) -> None:
    """byte_counter (what a phrase check runs over the candidates' UTF-8) counts what query.occurrences does."""
    folded, needle = [fold(t) for t in texts], fold(query).strip()
    if needle:
        expected = [len(list(occurrences(needle, t))) for t in folded]
        assert byte_counter(needle)([t.encode() for t in folded]) == expected


def test_counts_overlapping_and_whole_word_occurrences() -> None:
    assert occurrence_counter("哈哈")("哈哈哈") == 2  # overlapping starts count
    assert occurrence_counter("扩散模型")("扩散模型,扩散模型的扩散") == 2
    assert occurrence_counter("lora")("lora, loras, xlora lora,élora") == 2  # whole words only
    assert occurrence_counter("\\frac")("\\frac{1}{2} \\fracture") == 1
    assert plain("扩散模型") == "扩散模型".encode() and plain("lora") is None and plain("哈哈") is None
    texts = ["lora, loras, xlora lora,élora", "αlora lora٣ lora", "哈哈哈", "fokker-planck方程 xfokker-planck方程"]
    assert byte_counter("lora")([t.encode() for t in texts]) == [2, 1, 0, 0]
    assert byte_counter("哈哈")([t.encode() for t in texts]) == [0, 0, 2, 0]
    assert byte_counter("fokker-planck方程")([t.encode() for t in texts]) == [0, 0, 0, 1]
