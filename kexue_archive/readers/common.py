"""Pieces every reader needs: paragraph assembly, math checks, boilerplate."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..records import Problem, Sighting
from ..tex import MATH_ENVIRONMENTS, line_of, scan

#: Sidebar heading that ends the article part of every blog page.
SIDEBAR_START = "最近评论"
#: The link closing a listing excerpt; never article text.
READ_MORE = "点击阅读全文..."
#: Reprint notices the blog appends to article bodies.
REPRINT_PREFIXES = ("转载到请包括本文地址", "更详细的转载事宜请参考", "如果您还有什么疑惑或建议")

_OPEN_ENV = re.compile(r"\\(begin|end)\{([A-Za-z]+\*?)\}")


@dataclass(frozen=True)
class Reading:
    """What a reader got out of one dump: sightings, and what it could not read."""

    sightings: tuple[Sighting, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Para:
    """A paragraph of an excerpt and the dump line it starts on (1-based)."""

    text: str
    line: int


def open_math_depth(text: str, depth: int = 0) -> int:
    """Math environments still open after ``text``, starting from ``depth``."""
    for kind, env in _OPEN_ENV.findall(text):
        if env in MATH_ENVIRONMENTS:
            depth += 1 if kind == "begin" else -1
    return max(depth, 0)


def lines_to_paras(lines: list[tuple[int, str]]) -> list[Para]:
    """One paragraph per line, except that a math environment spanning several
    lines stays one paragraph (a blank line inside it would break the TeX)."""
    paras: list[Para] = []
    depth = 0
    for number, text in lines:
        text = text.rstrip()
        if depth and paras:
            paras[-1] = Para(paras[-1].text + "\n" + text, paras[-1].line)
        elif text.strip():
            paras.append(Para(text.strip(), number))
        depth = open_math_depth(text, depth)
    return paras


def drop_repeats(paras: list[Para]) -> list[Para]:
    """Image captions are printed twice in a row (alt text, then caption): keep one."""
    kept: list[Para] = []
    for para in paras:
        if kept and kept[-1].text == para.text:
            continue
        kept.append(para)
    return kept


def is_boilerplate(text: str) -> bool:
    return text == READ_MORE or text.startswith(REPRINT_PREFIXES)


def excerpt_of(paras: list[Para]) -> str:
    return "\n\n".join(p.text for p in paras if not is_boilerplate(p.text))


def math_problems(file: str, paras: list[Para]) -> tuple[list[Problem], bool]:
    """A warning per delimiter left open, naming the line it is on."""
    problems = []
    for para in paras:
        for offset, message in scan(para.text).unbalanced:
            line = para.line + line_of(para.text, offset)
            problems.append(Problem(file, line, "warning", f"unbalanced math: {message}"))
    return problems, bool(problems)


def finish(
    file: str,
    line: int,
    paras: list[Para],
    *,
    title: str | None,
    author: str | None = None,
    date: str | None = None,
    readers: int | None = None,
    url: str | None = None,
    flags: tuple[str, ...] = (),
) -> tuple[Sighting, list[Problem]]:
    """Build a sighting from its paragraphs, flagging what is missing or broken."""
    problems, unbalanced = math_problems(file, paras)
    excerpt = excerpt_of(paras)
    found = set(flags)
    if title is None:
        found.add("title-missing")
    if not excerpt:
        found.add("excerpt-missing")
    if unbalanced:
        found.add("unbalanced-math")
    sighting = Sighting(
        file=file, line=line, title=title, author=author, date=date, readers=readers,
        excerpt=excerpt, url=url, flags=tuple(sorted(found)),
    )
    return sighting, problems
