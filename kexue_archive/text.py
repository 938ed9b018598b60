"""Normalisation shared by the merge (matching) and ids (identity).

The live blog writes full-width punctuation (``（）：，？``) and some dumps were
NFKC-normalised on the way, so identity is decided on NFKC text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACE = re.compile(r"\s+")

#: How many normalised characters of an excerpt identify a title-less article.
FINGERPRINT_CHARS = 80


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


def fingerprint_id(excerpt: str) -> str:
    """The id of a title-less article: its excerpt's opening, normalised."""
    return "u" + _digest("excerpt", squash(excerpt)[:FINGERPRINT_CHARS])[1:]
