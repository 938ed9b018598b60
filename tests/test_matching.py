"""The phrase test of matching.py on plain position dicts: which terms decide a phrase."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kexue_archive.analysis import fold, is_exact, query_terms, term_positions
from kexue_archive.matching import covering
from kexue_archive.query import occurs

# Few distinct characters, so that phrases recur and nearly match: runs of CJK, words, symbols, spaces.
ALPHABET = "扩散模型散扩的熵ab1-$ \n"


def _starts(found: dict[str, list[int]], terms: list[str], offsets: list[int]) -> set[int]:
    """Positions p where the term at each offset k stands at p + k."""
    return set.intersection(*({p - k for p in found.get(terms[k], [])} for k in offsets))


@settings(max_examples=600)
@given(st.text(alphabet=ALPHABET, max_size=60), st.text(alphabet=ALPHABET, min_size=1, max_size=8))
def test_covering_terms_decide_a_phrase_as_all_its_terms_do(text: str, query: str) -> None:
    folded, needle = fold(text), fold(query).strip()
    if not needle or not is_exact(needle):
        return
    terms, found = query_terms(needle), term_positions(folded)
    chosen = covering(terms)
    assert chosen == sorted(set(chosen)) and set(chosen) <= set(range(len(terms)))
    assert _starts(found, terms, chosen) == _starts(found, terms, list(range(len(terms))))
    assert bool(_starts(found, terms, chosen)) == occurs(needle, folded)


def test_covering_skips_the_bigrams_between_others() -> None:
    assert covering(query_terms("扩散模型")) == [0, 2]  # 散模 follows from 扩散 at p and 模型 at p + 2
    assert covering(query_terms("扩散模")) == [0, 1]  # the run's last character needs the last bigram
    assert covering(query_terms("微调lora")) == [0, 2]  # 调 is 微调's second character
    assert covering(query_terms("fokker-planck方程")) == [0, 1, 2, 3]  # words and symbols each stand alone
