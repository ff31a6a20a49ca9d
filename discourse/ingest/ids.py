"""Stable ids for articles that arrive without one.

The id is a hash of the article's normalised content, so the same article gets the same id in every run, on
every machine, and whether or not a scraper added stray spaces, line breaks, invisible characters (zero-width
spaces and joiners, byte-order marks, soft hyphens) or a different Unicode composition ("e" + combining accent
versus "é"). That lets results from separate runs be joined and duplicates be spotted.
"""

from __future__ import annotations

import unicodedata

from ..text import text_hash

PREFIX = "sha256:"
#: 24 hex digits = 96 bits: no accidental collision across billions of articles, yet short enough to read.
HEX_DIGITS = 24

# Separates the parts before hashing, so ("ab", "c") and ("a", "bc") cannot give the same digest.
_SEPARATOR = "\x1f"

#: Characters that change nothing a reader sees: zero-width space, non-joiner and joiner, word joiner, byte-order
#: mark (zero-width no-break space), soft hyphen. Copy-paste and CMS exports scatter them; they are dropped.
_INVISIBLE = str.maketrans(dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad")))


def normalise(value: str | None) -> str:
    """NFC, invisible characters dropped, whitespace runs collapsed to one space, ends stripped; None → ""."""
    if not value:
        return ""
    return " ".join(unicodedata.normalize("NFC", value.translate(_INVISIBLE)).split())


def content_id(text: str, title: str | None = None, source: str | None = None) -> str:
    """"sha256:" + the first 24 hex digits of text_hash (sha256) over the normalised source, title and text.
    The reader rejects lone surrogates before an id is made, so the payload always encodes as UTF-8."""
    payload = _SEPARATOR.join((normalise(source), normalise(title), normalise(text)))
    return PREFIX + text_hash(payload)[:HEX_DIGITS]


__all__ = ["content_id", "normalise"]
