"""Ground truth for search tests: brute-force substring scans, and queries sampled from records.

The truth is computed here from the records alone, with a regex written
independently of ``kexue_archive.query``: a term matches a field when its
folded form is a substring of the folded field, and where the term starts
(ends) with a letter or digit the text must not continue the word there.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from functools import cache

import opencc

from kexue_archive.analysis import CJK_RANGES, fold
from kexue_archive.records import Article

FIELDS = ("title", "excerpt", "math")
_WORD = rf"[^\W_{CJK_RANGES}]"
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_MIXED = re.compile(r"[A-Za-z]+[\u4e00-\u9fff]{1,3}|[\u4e00-\u9fff]{1,3}[A-Za-z]+")
_PUNCT = re.compile(r"[\u4e00-\u9fffA-Za-z]{1,3}[，。：、,.:()（）“”\-+=^_{}\\$][\u4e00-\u9fffA-Za-z0-9]{1,3}")


def field_text(a: Article, field: str) -> str:
    if field == "math":
        return "\n".join(m.tex for m in a.math)
    return {"title": a.title, "excerpt": a.excerpt, "author": a.author}[field] or ""


def term_regex(query: str) -> re.Pattern[str]:
    needle = fold(query).strip()
    before = f"(?<!{_WORD})" if re.match(_WORD, needle[0]) else ""
    after = f"(?!{_WORD})" if re.match(_WORD, needle[-1]) else ""
    return re.compile(before + re.escape(needle) + after)


@cache
def folded(text: str) -> str:
    return fold(text)


def matching(articles: Iterable[Article], query: str, fields: Iterable[str] = FIELDS) -> set[str]:
    """Ids of the articles containing ``query`` (one term) in any of ``fields``."""
    pattern, fields = term_regex(query), tuple(fields)
    return {a.id for a in articles if any(pattern.search(folded(field_text(a, f))) for f in fields)}


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def sample_queries(articles: list[Article], seed: int, per_kind: int) -> dict[str, list[str]]:
    """Terms of every kind the acceptance criteria name, drawn from the records themselves."""
    rng = random.Random(seed)
    texts = [field_text(a, f) for a in articles for f in FIELDS if field_text(a, f)]
    runs = [m.group() for t in texts for m in _HAN.finditer(t)]
    words = sorted({m.group() for t in texts for m in _LATIN.finditer(t) if len(m.group()) > 1})
    mixed = sorted({m.group() for t in texts for m in _MIXED.finditer(t)})
    punct = sorted({m.group() for t in texts for m in _PUNCT.finditer(t) if '"' not in m.group()})

    def cjk(n: int) -> list[str]:
        long_runs = [r for r in runs if len(r) >= n]
        out = []
        for _ in range(per_kind):
            run = rng.choice(long_runs)
            at = rng.randrange(len(run) - n + 1)
            out.append(run[at:at + n])
        return out

    s2t = opencc.OpenCC("s2t")
    traditional = [t for t in (s2t.convert(q) for q in cjk(4) + cjk(2)) if fold(t) != t][:per_kind]
    case_mixed = [rng.choice([w.lower(), w.upper(), w.swapcase(), w]) for w in rng.sample(words, min(per_kind, len(words)))]
    han = sorted({c for r in runs for c in r})
    absent = ["".join(rng.sample(han, 3)) for _ in range(per_kind)]
    return {
        "cjk1": cjk(1), "cjk2": cjk(2), "cjk3": cjk(3), "cjk4": cjk(4),
        "latin": case_mixed, "fullwidth": [full_width(w) for w in case_mixed[: per_kind // 2]],
        "traditional": traditional, "mixed": rng.sample(mixed, min(per_kind, len(mixed))),
        "punctuation": rng.sample(punct, min(per_kind, len(punct))), "absent": absent,
    }


def quoted(term: str) -> str:
    """The term as a query meaning exactly that string, whatever characters it holds."""
    return f'"{term}"'
