"""Plain-text dump of the home page's card view (seeds 003–004).

Each article is a ``D Mon`` date box (no year, no author, no readers), the
title, excerpt paragraphs separated by blank lines, then ``点击阅读全文...``.
A site header may come first. Image captions are printed twice in a row: a
paragraph immediately repeated is a caption, never a title. The title line
can be missing entirely, so the first paragraph is only taken as the title
when it looks like one.
"""

from __future__ import annotations

import re

from ..records import Problem, Sighting
from .common import READ_MORE, SIDEBAR_START, Para, Reading, drop_repeats, finish

MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
DATE_BOX = re.compile(r"^\s*(?P<day>\d{1,2})\s+(?P<month>" + "|".join(MONTHS) + r")\s*$")
#: Days per month in a leap year: the year is unknown, so 29 Feb is possible.
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: A title is one short line that does not read like a sentence of prose.
TITLE_MAX_CHARS = 80
_PROSE_ENDINGS = ("。", "，", ",", "：", ":", "；", ";", "、", "…", "...", "！", "!")


def sniff(text: str) -> bool:
    return any(DATE_BOX.match(line) for line in text.splitlines())


def looks_like_title(text: str) -> bool:
    return (
        "\n" not in text
        and len(text) <= TITLE_MAX_CHARS
        and "。" not in text
        and not text.endswith(_PROSE_ENDINGS)
        and not text.startswith(("\\", "$"))
    )


def _paragraphs(lines: list[str], start: int, stop: int) -> list[Para]:
    """Blank-line separated paragraphs of lines[start:stop], with 1-based line numbers."""
    paras: list[Para] = []
    block: list[str] = []
    first = start
    for i in range(start, stop + 1):
        text = lines[i].rstrip() if i < stop else ""
        if text.strip():
            if not block:
                first = i
            block.append(text)
        elif block:
            paras.append(Para("\n".join(block).strip(), first + 1))
            block = []
    return paras


def read(text: str, file: str) -> Reading:
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines) if line.strip() == SIDEBAR_START), len(lines))
    boxes = [i for i in range(end) if DATE_BOX.match(lines[i])]
    problems: list[Problem] = []
    sightings: list[Sighting] = []
    for k, at in enumerate(boxes):
        stop = boxes[k + 1] if k + 1 < len(boxes) else end
        sighting, found = _article(lines, at, stop, file)
        problems.extend(found)
        if sighting is not None:
            sightings.append(sighting)
    if boxes and any(line.strip() for line in lines[: boxes[0]]):
        problems.append(Problem(file, 1, "info", f"skipped the site header (lines 1-{boxes[0]})"))
    return Reading(tuple(sightings), tuple(problems))


def _article(lines: list[str], at: int, stop: int, file: str) -> tuple[Sighting | None, list[Problem]]:
    m = DATE_BOX.match(lines[at])
    assert m is not None  # boxes only holds matching lines
    day, month = int(m.group("day")), MONTHS[m.group("month")]
    if not 1 <= day <= _DAYS[month - 1]:
        return None, [Problem(file, at + 1, "warning", f"impossible date box {lines[at].strip()!r}: entry skipped")]
    paras = _paragraphs(lines, at + 1, stop)
    cut = next((i for i, p in enumerate(paras) if p.text == READ_MORE), len(paras))
    paras = paras[:cut]
    title: str | None = None
    line = at + 1
    repeated = len(paras) > 1 and paras[0].text == paras[1].text
    if paras and not repeated and looks_like_title(paras[0].text):
        title, line = paras[0].text, paras[0].line
        paras = paras[1:]
    sighting, problems = finish(
        file, line, drop_repeats(paras), title=title, date=f"--{month:02d}-{day:02d}", flags=("year-unknown",)
    )
    return sighting, problems
