"""The record types that flow through the pipeline.

Every stage takes and returns these frozen dataclasses, never loose dicts, so
the shape of the data is written down once, here:

    Dump      --read-->  Sighting (one per article seen in one dump)
    Sighting* --merge--> Article  (one per real article, all sightings joined)
    Problem   anything any stage could not do, with the file and line it concerns
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Dump:
    """One crawled file, identified by its content rather than its name.

    name:     the file name as found in the seeds folder (what problems cite).
    sha256:   hex digest of the raw bytes; a dump edited in place is new content.
    size:     length of the raw bytes.
    """

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Problem:
    """Something a stage could not do, reported as ``file:line: severity: message``.

    line is 1-based; 0 means the problem concerns the file as a whole.
    """

    file: str
    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Sighting:
    """What one dump says about one article, exactly as the dump says it.

    file, line: where the article starts in the dump (line is 1-based).
    title:      None when the dump does not show one (never guessed).
    author:     None when the layout carries no by-line.
    date:       ``YYYY-MM-DD``, ``--MM-DD`` when the dump gives no year, or None.
    readers:    the reader count the dump showed, or None.
    excerpt:    text, paragraphs separated by blank lines, TeX verbatim.
    url:        canonical article URL when the page names it, else None.
    flags:      reader-level observations, e.g. ``title-missing``.
    """

    file: str
    line: int
    title: str | None
    author: str | None
    date: str | None
    readers: int | None
    excerpt: str
    url: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Math:
    """One formula of an excerpt, in order of appearance.

    tex:     the TeX between (and for environments, including) its delimiters.
    display: True for ``$$``, ``\\[``, and ``\\begin{…}`` environments.
    """

    tex: str
    display: bool


@dataclass(frozen=True)
class Source:
    """One dump occurrence of an article: where, and the reader count it showed."""

    file: str
    line: int
    readers: int | None


@dataclass(frozen=True)
class Article:
    """One real article: every sighting of it joined into a single record.

    id:       stable and order-independent: a hash of the NFKC title when any
              sighting had one, else of the excerpt fingerprint.
    aliases:  ids this article was known by before a title was learnt; they
              stay valid (the site keeps a redirect page for each).
    sources:  every sighting, sorted; nothing observed is dropped.
    flags:    sorted, e.g. ``title-missing``, ``year-unknown``, ``excerpt-conflict``.
    The other fields are those of :class:`Sighting`, chosen by the merge policy.
    """

    id: str
    title: str | None
    author: str | None
    date: str | None
    readers: int | None
    excerpt: str
    math: tuple[Math, ...]
    url: str | None
    sources: tuple[Source, ...]
    flags: tuple[str, ...]
    aliases: tuple[str, ...] = field(default=())

    @property
    def year(self) -> int | None:
        """The publication year, or None when no dump told it."""
        if self.date and not self.date.startswith("--"):
            return int(self.date[:4])
        return None
