"""Series detection: the blog numbers the parts of a series in their titles.

Forms seen on kexue.fm (after NFKC, which turns ``（）：．`` half-width):

    生成扩散模型漫谈(二十四):少走捷径,更快到达      name(number):rest
    从动力学角度看优化算法（六）：为什么SimSiam不退化？  (full-width, same form)
    Transformer升级之路:7、长度外推性与局部注意力      name:number、rest
    OCR技术浅探:1. 全文简述                          name:number. rest
    【中文分词系列】 2. 基于切分的新词发现            【name】number. rest
    《自然极值》系列——6.最小作用量原理               name——number.rest

Numbers are Arabic (at most three digits, so a year in brackets is not a part
number) or Chinese (一…九十百千, 零/〇, 两), and 上/中/下 in brackets.
Detection is a pure function of titles, so a page plan built on it stays pure.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .records import Article
from .text import nfkc, title_id

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_PARTS = {"上": 1, "中": 2, "下": 3}
_NUM = r"[0-9]{1,3}|[零〇一二两三四五六七八九十百千]{1,6}"
_SEP = r"\s*[、.](?!\s*\d)\s*"

_FORMS = (
    # name(number) optionally followed by :rest — the commonest form
    re.compile(rf"^(?P<name>.*?[^\s(])\s*\((?P<num>{_NUM}|[上中下])\)\s*(?::\s*(?P<rest>.*))?$"),
    # 【name】number. rest
    re.compile(rf"^【(?P<name>[^】]+)】\s*(?P<num>{_NUM}){_SEP}(?P<rest>.+)$"),
    # name——number.rest
    re.compile(rf"^(?P<name>.+?)\s*(?:——|—|--)\s*(?P<num>{_NUM}){_SEP}(?P<rest>.+)$"),
    # name:number、rest
    re.compile(rf"^(?P<name>.+?)\s*:\s*(?P<num>{_NUM}){_SEP}(?P<rest>.+)$"),
)


@dataclass(frozen=True)
class Part:
    """Where a title places its article: the series name, key and part number."""

    name: str
    key: str
    number: int


@dataclass(frozen=True)
class Series:
    """One detected series, members ordered by part number then date.

    id:      derived from the key alone, so page paths are safe and stable.
    members: (part number, article id) pairs in reading order.
    """

    id: str
    name: str
    members: tuple[tuple[int, str], ...]


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral such as 二十四, 十, 一百零一; None if malformed."""
    total, digit, seen = 0, None, False
    for ch in text:
        if ch in _CN_DIGITS:
            if digit is not None and digit != 0:
                return None  # two digits in a row (一二) is not a numeral
            digit, seen = _CN_DIGITS[ch], True
        elif ch in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit, seen = None, True
        else:
            return None
    if not seen:
        return None
    return total + (digit or 0)


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text in _PARTS:
        return _PARTS[text]
    return chinese_number(text)


def series_key(name: str) -> str:
    """What two series names must share: NFKC, case, no spaces or brackets."""
    return re.sub(r"[\s《》【】\"“”]", "", nfkc(name)).casefold()


def series_id(key: str) -> str:
    """A series' page name, from its key alone: safe as a path, and stable."""
    return "s" + title_id(key)[1:]


def parse(title: str | None) -> Part | None:
    """The series a title places its article in, or None."""
    if not title:
        return None
    text = nfkc(title).strip()
    for form in _FORMS:
        m = form.match(text)
        if not m:
            continue
        number = _number(m.group("num"))
        name = m.group("name").strip()
        key = series_key(name)
        if number is None or number <= 0 or len(key) < 2:
            continue
        return Part(name=name, key=key, number=number)
    return None


def detect(articles: Iterable[Article]) -> list[Series]:
    """Every series, ordered by name key; members by part number, date, id."""
    return group((part, a.id, a.date) for a in articles if (part := parse(a.title)))


def group(parts: Iterable[tuple[Part, str, str | None]]) -> list[Series]:
    """Series from (part, article id, date) triples, as :func:`detect` forms them
    (the site caches parts by title, so it need not parse every title again)."""
    groups: dict[str, list[tuple[Part, str, str | None]]] = defaultdict(list)
    for found in parts:
        groups[found[0].key].append(found)
    out = []
    for key, members in sorted(groups.items()):
        members.sort(key=lambda m: (m[0].number, m[2] or "", m[1]))
        # the name as the latest part writes it: the blog's current spelling
        name = members[-1][0].name
        out.append(Series(id=series_id(key), name=name, members=tuple((p.number, aid) for p, aid, _ in members)))
    return out
