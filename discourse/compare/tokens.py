"""Dutch word tokens, one definition for keyness and term adoption.

Both sides of a comparison must be cut into words the same way, or a difference in counts is a difference in
tokenising. The stop words keyness drops are `discourse.vocabulary`'s, for its KEYNESS use.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A word is a run of letters (any script, accents included) with inner hyphens or apostrophes ("zorg-en",
# "zo'n", "baby's"), or one of the clitics "'s", "'t", "'k", "'n" ("'s avonds", "'k weet 't niet"). Digits are
# not letters, and a word glued to digits ("3de", "18u", "covid19") is a number, so it is dropped whole.
_WORD = re.compile(r"(?<!\w)(?:'[stkn]|[^\W\d_]+(?:['-][^\W\d_]+)*)(?!\w)")

# Typographic apostrophes and hyphens, so "zo’n" and "zo'n" are one word.
_NORMALISE = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"})


def _normalise(text: str) -> str:
    # NFC so that an "é" typed as e + combining accent is one letter.
    return unicodedata.normalize("NFC", text).translate(_NORMALISE).lower()


def tokenize(text: str, lemmas: bool = False) -> list[str]:
    """Lowercased Dutch word tokens of `text`, numbers dropped; simplemma lemmas when `lemmas` is true."""
    tokens = _WORD.findall(_normalise(text))
    if lemmas:
        tokens = [lemma(token) for token in tokens]
    return tokens


@lru_cache(maxsize=200_000)
def lemma(token: str) -> str:
    """simplemma's Dutch lemma of a lowercased token."""
    # Cached: a corpus repeats a few thousand word forms millions of times, and simplemma is a dictionary lookup
    # with fallbacks that costs microseconds each.
    import simplemma

    return simplemma.lemmatize(token, lang="nl").lower()

