"""Normalisation shared by the merge (matching) and ids (identity).

The live blog writes full-width punctuation (``（）：，？``) and some dumps were
NFKC-normalised on the way, so identity is decided on NFKC text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACE = re.compile(r"\s+")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def title_key(title: str) -> str:
    """What two titles must share to be the same article: NFKC, case, spacing."""
    return _SPACE.sub(" ", nfkc(title)).strip().casefold()


def squash(text: str) -> str:
    """NFKC text with all white space removed: dumps disagree on line breaks."""
    return _SPACE.sub("", nfkc(text))


def _digest(kind: str, key: str) -> str:
    return hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()[:12]


def title_id(title: str) -> str:
    """The id of a titled article: a pure function of its NFKC title."""
    return _digest("title", title_key(title))


def fingerprint_id(excerpt: str, date: str | None) -> str:
    """The id of a title-less sighting: its whole excerpt (normalised) and day/month.

    Two sightings with the same fingerprint are then indistinguishable, so they
    always join the same article: an id is never claimed by two articles. (An
    opening alone is not enough: articles of a series often start alike.)
    """
    return "u" + _digest("excerpt", f"{date[-5:] if date else ''}\0{squash(excerpt)}")[1:]
