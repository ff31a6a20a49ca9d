"""Stable ids for articles that arrive without one.

The id is a hash of the article's normalised content, so the same article gets the same id in every run, on
every machine, and whether or not a scraper added stray spaces, line breaks or a different Unicode composition
("e" + combining accent versus "é"). That lets results from separate runs be joined and duplicates be spotted.
"""

from __future__ import annotations

import hashlib
import unicodedata

PREFIX = "sha256:"
#: 24 hex digits = 96 bits: no accidental collision across billions of articles, yet short enough to read.
HEX_DIGITS = 24

# Separates the parts before hashing, so ("ab", "c") and ("a", "bc") cannot give the same digest.
_SEPARATOR = "\x1f"


def normalise(value: str | None) -> str:
    """NFC, whitespace runs collapsed to one space, ends stripped; None becomes ""."""
    if not value:
        return ""
    return " ".join(unicodedata.normalize("NFC", value).split())


def content_id(text: str, title: str | None = None, source: str | None = None) -> str:
    """"sha256:" + the first 24 hex digits of sha256 over the normalised source, title and text."""
    payload = _SEPARATOR.join((normalise(source), normalise(title), normalise(text)))
    # surrogatepass: a lone surrogate (from a badly decoded file) must still hash, not raise.
    digest = hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()
    return PREFIX + digest[:HEX_DIGITS]


__all__ = ["content_id", "normalise"]
