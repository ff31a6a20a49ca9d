"""Dutch word tokens and stop words, one definition for keyness and term adoption.

Both sides of a comparison must be cut into words the same way, or a difference in counts is a difference in
tokenising. Interview transcripts are Flemish speech, full of fillers ("euh", "allee") and tussentaal ("ge",
"da"); news and policy are written Standard Dutch. Without a domain stop list the keyness table for parents
would be a list of hesitations — true, but not what anyone wants to learn from it.
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

# Words added to stopwordsiso's Dutch list, by group. Words that carry stance are not added: "goed" (as in
# "goed genoeg"), "denk"/"weet" (a parent's hedging is a finding, not noise).
DOMAIN_STOP_WORDS = {
    # Hesitations and back-channels of transcribed speech: the transcriber writes them, nobody means them.
    "fillers": ("euh", "eh", "ehm", "uh", "uhm", "hm", "hmm", "mm", "mmm", "ah", "oh", "ok", "oké", "okay",
                "ja", "jaja", "nee", "neen", "tja", "nou", "hè", "he", "hé", "hoor", "zeg"),
    # Flemish interjections and tussentaal forms of function words ("ge hebt da ni"), absent from the written
    # list because newspapers do not print them; left in, they would make every Flemish word "key".
    "flemish": ("allee", "allez", "awel", "amai", "ge", "gij", "gulle", "da", "dadde", "ni", "nie", "wa",
                "ne", "nen", "den", "zijt", "kzou", "kheb", "kweet", "wadde", "ist", "zenne", "se"),
    # Discourse particles and vague fillers of speech ("dus ja, gewoon eigenlijk wel echt heel...").
    "particles": ("zo", "gewoon", "eigenlijk", "nu", "wel", "echt", "heel", "dus", "toch", "maar", "ook", "even",
                  "eens", "nog", "misschien", "soort", "beetje", "precies", "natuurlijk", "sowieso", "zoiets",
                  "enzo", "enzovoort", "dinges", "ding", "zo'n", "da's", "'t", "'k", "'n", "'s"),
}


# Words taken out of stopwordsiso's list because the codebook's frames are made of them: the "moet" and "mag"
# of norms and permission, and the absolutes of checklist parenting ("altijd", "elke dag", "nooit"), "genoeg"
# of "goed genoeg". A keyness table that hides them hides the pressure it is meant to find.
KEPT_WORDS = frozenset({"moet", "moeten", "moest", "moesten", "mag", "mogen", "mocht", "mochten", "altijd", "nooit",
                        "elke", "elk", "iedere", "ieder", "alles", "niets", "steeds", "genoeg"})


def _normalise(text: str) -> str:
    # NFC so that an "é" typed as e + combining accent is one letter.
    return unicodedata.normalize("NFC", text).translate(_NORMALISE).lower()


def tokenize(text: str, lemmas: bool = False) -> list[str]:
    """Lowercased Dutch word tokens of `text`, numbers dropped; simplemma lemmas when `lemmas` is true."""
    tokens = _WORD.findall(_normalise(text))
    if lemmas:
        tokens = [_lemma(token) for token in tokens]
    return tokens


@lru_cache(maxsize=200_000)
def _lemma(token: str) -> str:
    # Cached: a corpus repeats a few thousand word forms millions of times, and simplemma is a dictionary lookup
    # with fallbacks that costs microseconds each.
    import simplemma

    return simplemma.lemmatize(token, lang="nl").lower()


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """stopwordsiso's Dutch list without KEPT_WORDS, plus DOMAIN_STOP_WORDS."""
    import stopwordsiso

    words = set(stopwordsiso.stopwords("nl")) - KEPT_WORDS
    for group in DOMAIN_STOP_WORDS.values():
        words.update(group)
    return frozenset(words)
