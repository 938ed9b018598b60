"""Folding and the bigram analyzer: the properties the search's exactness rests on."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from collections import Counter

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kexue_archive.analysis import (
    TOKEN,
    BigramAnalyzer,
    Folder,
    default_folder,
    fold,
    is_exact,
    is_word_char,
    query_terms,
    query_tokens,
    segments,
    t2s_table,
    term_counts,
)
from kexue_archive.query import occurs

# Characters the blog and its readers actually type, plus the awkward ones.
ALPHABET = (
    "扩散模型生成函数梯度外推熵的一是在不了有和人这中大为上个国我以要他时来用们"
    "擴散模型梯度變分編碼器"  # traditional
    "abcLoRAxyz019"
    "ＬｏＲＡ１２"  # full-width
    "ﬁ㎏ß①İ"  # expand under NFKC or case folding
    " \n\u3000\u200b"  # spaces, a zero-width space
    ",.，。：:-（）()\"“”$\\^_{}+*?~[]"
)
texts = st.text(alphabet=ALPHABET, max_size=40)


def test_fold_normalises_width_case_and_script() -> None:
    assert fold("ＬｏＲＡ") == "lora"
    assert fold("擴散模型") == "扩散模型"
    assert fold("變分自編碼器") == "变分自编码器"
    assert fold("Transformer") == fold("TRANSFORMER") == "transformer"
    assert fold("a\u3000b\nc\u200bd") == "a b cd"
    assert fold("（二）") == "(二)"


def test_t2s_table_is_character_level_and_agrees_with_opencc() -> None:
    table = t2s_table()
    assert len(table) > 2500
    assert all(len(k) == 1 and len(v) == 1 for k, v in table.items())
    converter = opencc.OpenCC("t2s")
    for trad, simp in table.items():
        once = converter.convert(trad)
        # OpenCC's own t2s (phrases first) agrees on single characters, except where
        # the table resolved a chain (a -> b -> c) so that folding is idempotent.
        assert once == simp or converter.convert(once) == simp, trad


def test_t2s_table_is_idempotent() -> None:
    table = t2s_table()
    assert all(table.get(v, v) == v for v in table.values())


def test_fold_is_idempotent_on_every_bmp_character() -> None:
    folder = default_folder()
    bad = [c for c in map(chr, range(0x10000)) if not 0xD800 <= ord(c) <= 0xDFFF and folder.fold(folder.fold(c)) != folder.fold(c)]
    assert bad == []


@given(texts)
def test_fold_map_points_back_at_the_original(text: str) -> None:
    folder = default_folder()
    folded, origin = folder.fold_map(text)
    assert len(origin) == len(folded)
    assert origin == sorted(origin)
    assert "".join(folder.fold(text[i]) for i in sorted(set(origin))) == folded
    for k, i in enumerate(origin):
        assert folded[k] in folder.fold(text[i])


@given(texts, texts, texts)
def test_fold_commutes_with_concatenation(a: str, b: str, c: str) -> None:
    assert fold(a + b + c) == fold(a) + fold(b) + fold(c)



def _reference_counts(folded: str) -> Counter[str]:
    """term_counts written the slow, obvious way: TOKEN's matches, a CJK run as its characters and bigrams."""
    found: Counter[str] = Counter()
    for m in re.finditer(TOKEN, folded):
        run = m.group()
        if m.lastgroup == "cjk":
            found.update(run)
            found.update(run[i:i + 2] for i in range(len(run) - 1))
        else:
            found[run] += 1
    return found


@settings(max_examples=400)
@given(texts)
def test_term_counts_count_every_token_unigram_and_bigram(text: str) -> None:
    folded = fold(text)
    assert term_counts(folded) == _reference_counts(folded)


@settings(max_examples=400)
@given(texts, st.data())
def test_every_occurrence_has_all_its_query_terms(text: str, data: st.DataObject) -> None:
    """What makes candidates complete: a query occurring in the text finds all its terms in the text's counts."""
    folded = fold(text)
    if not folded.strip():
        return
    i = data.draw(st.integers(0, len(folded) - 1))
    j = data.draw(st.integers(i + 1, len(folded)))
    needle = folded[i:j].strip()
    if not needle or not occurs(needle, folded):
        return
    counted = term_counts(folded)
    assert all(counted[term] > 0 for part in segments(needle) for term in part)


@settings(max_examples=400)
@given(texts, st.text(alphabet=ALPHABET, min_size=1, max_size=6))
def test_a_single_query_term_matches_exactly(text: str, query: str) -> None:
    """Where a query is one index term, its posting decides alone: present <=> substring."""
    folded, needle = fold(text), fold(query).strip()
    if needle and is_exact(needle) and len(query_terms(needle)) == 1:
        assert (term_counts(folded)[query_terms(needle)[0]] > 0) == occurs(needle, folded)


@given(texts)
def test_query_tokens_agree_with_the_token_pattern(text: str) -> None:
    folded = fold(text)
    assert query_tokens(folded) == [(str(m.lastgroup), m.group()) for m in re.finditer(TOKEN, folded)]
    for c in folded.replace(" ", ""):
        m = re.fullmatch(TOKEN, c)
        assert m is not None and is_word_char(c) == (m.lastgroup == "word")


def test_query_tokens_on_every_bmp_character() -> None:
    chars = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF)
    kinds = [(str(m.lastgroup), m.group()) for m in re.finditer(TOKEN, "\n".join(chars))]
    assert query_tokens("\n".join(chars)) == kinds


def test_cjk_runs_give_bigrams_and_unigrams_latin_words_whole() -> None:
    assert term_counts(fold("用LoRA微调，GPT-4的熵，熵")) == {
        "用": 1, "lora": 1, "微": 1, "微调": 1, "调": 1, ",": 2, "gpt": 1, "-": 1, "4": 1, "的": 1, "的熵": 1, "熵": 2,
    }
    assert query_terms("扩散模型") == ["扩散", "散模", "模型"]
    assert query_terms("熵") == ["熵"]
    assert query_terms("微调lora") == ["微调", "lora"] and query_terms("的熵,a") == ["的熵", ",", "a"]
    assert is_exact("扩散模型") and is_exact("lora") and is_exact("熵") and is_exact("$")
    assert is_exact("lora微调") and is_exact("gpt-4") and not is_exact("生成 函数")
    assert is_word_char("a") and is_word_char("7") and not is_word_char("熵") and not is_word_char("_")


def test_analyzer_survives_pickling_with_its_table() -> None:
    analyzer = BigramAnalyzer(t2s_table())
    analyzer.fold("擴散ﬁ")  # warm the per-character cache: it must not be pickled
    data = pickle.dumps(analyzer)
    again = pickle.loads(data)
    assert again == analyzer and again.t2s == t2s_table()
    assert [(t.text, t.pos) for t in again("擴散擴", start_pos=3)] == [("扩", 3), ("扩", 4), ("扩散", 5), ("散", 6), ("散扩", 7)]
    assert len(data) < 2 * len(pickle.dumps(t2s_table()))
    assert Folder({"a": "b"}) != Folder({})


@pytest.mark.parametrize("module", ["kexue_archive.analysis", "kexue_archive.query", "kexue_archive.cli"])
def test_importing_costs_no_heavy_modules(module: str) -> None:
    """Search starts cold in ~0.1 s only if these stay lazy (bench/search_bench.py measures it)."""
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not loaded & {"opencc", "yaml", "bs4", "whoosh", "asyncio", "dataclasses"}
