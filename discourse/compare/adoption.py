"""Term adoption: do parents use the institutional vocabulary ("de eerste 1000 dagen", "hechting", "kwetsbare
gezinnen") as often as the policy texts and the news do?

The counts are per 10,000 words of each side, so a side with more text does not win by volume; the ratio
A / B then says how much of the vocabulary has travelled (1 = used as often, 0.1 = ten times rarer in A).

Matching rule (`term_pattern`), chosen to catch how people write a term without catching other words:
  * case-insensitive, typographic apostrophes and hyphens read as plain ones;
  * on word boundaries: no letter, digit or inner hyphen on either side, so "stress" does not match
    "stressvol" or "stress-test", and "hechting" does not match "onthechting";
  * the words of a multi-word term may be separated by any run of whitespace, line breaks included;
  * a hyphen inside a term may be written as a hyphen, a space or nothing ("huid-op-huidcontact",
    "huid op huidcontact", "huidophuidcontact");
  * a number may be written in digits or words: "1000", "1.000", "1 000" and "duizend" are one spelling, so
    "eerste 1000 dagen" also matches "eerste duizend dagen" (and the codebook's "eerste duizend dagen", which
    would count the same occurrences, is merged into the first-listed term and reported under `merged`);
  * the last word may carry a simple inflection: -e, -en, -s or -'s ("kwetsbare", "gezinnen", "starts",
    "baby's"), with Dutch spelling before -e/-en: a long vowel written single again ("kwetsbaar" → "kwetsbare"),
    f/s voiced to v/z ("responsief" → "responsieve"), a final consonant after a short vowel doubled
    ("gezin" → "gezinnen"). Derivations and compounds ("kwetsbaarheid", "hechtingsproblemen") are other
    words and are not counted; earlier words of the term are matched as written ("goede start" ≠ "goed start").
Terms are counted independently, so "kwetsbare gezinnen" counts once for that term and once for "kwetsbaar".
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..codebook import load_codebook
from .tokens import _normalise, tokenize

PER_WORDS = 10_000

# Spellings of one number; the first is the canonical form used to merge equivalent terms.
NUMBER_SPELLINGS = (("1000", "1.000", "1 000", "duizend"),)

_VOWELS = set("aeiouyáéíóúàèëïöüâêîôû")
_LONG_VOWELS = ("aa", "ee", "oo", "uu")
_BOUNDARY_BEFORE = r"(?<!\w)(?<!\w-)"
_BOUNDARY_AFTER = r"(?!\w)(?!-\w)"


def adoption(texts_a: list[str], texts_b: list[str], terms: list[str] | tuple[str, ...] | None = None) -> dict:
    """Occurrences and rate per 10,000 words of each discourse term (default: the codebook's) on both sides.

    Returns {"words_a": int, "words_b": int, "per_words": 10000, "terms": [{"term", "merged", "count_a",
    "count_b", "texts_a", "texts_b", "rate_a", "rate_b", "ratio"}]} in the order of `terms`; `texts_*` is the
    number of texts with at least one occurrence; `ratio` is rate_a / rate_b, None when count_b is 0.
    """
    terms = list(load_codebook().discourse_terms if terms is None else terms)
    normalised_a = [_normalise(text) for text in texts_a]
    normalised_b = [_normalise(text) for text in texts_b]
    words_a = sum(len(tokenize(text)) for text in normalised_a)
    words_b = sum(len(tokenize(text)) for text in normalised_b)
    rows = []
    for term, merged in _merge_equivalent(terms):
        pattern = term_pattern(term)
        counts_a = [len(pattern.findall(text)) for text in normalised_a]
        counts_b = [len(pattern.findall(text)) for text in normalised_b]
        rate_a, rate_b = _rate(sum(counts_a), words_a), _rate(sum(counts_b), words_b)
        rows.append({
            "term": term, "merged": merged,
            "count_a": sum(counts_a), "count_b": sum(counts_b),
            "texts_a": sum(1 for c in counts_a if c), "texts_b": sum(1 for c in counts_b if c),
            "rate_a": rate_a, "rate_b": rate_b,
            "ratio": rate_a / rate_b if sum(counts_b) else None,
        })
    return {"words_a": words_a, "words_b": words_b, "per_words": PER_WORDS, "terms": rows}


def _rate(count: int, words: int) -> float:
    return count * PER_WORDS / words if words else 0.0


def _merge_equivalent(terms: list[str]) -> list[tuple[str, list[str]]]:
    """Terms that match the same text ("eerste 1000 dagen", "eerste duizend dagen") become one row, under the
    first listed; counting both would report every occurrence twice."""
    rows: dict[str, tuple[str, list[str]]] = {}
    for term in terms:
        key = " ".join(_canonical_number(word) for word in _normalise(term).split())
        if key in rows:
            rows[key][1].append(term)
        else:
            rows[key] = (term, [])
    return list(rows.values())


def _canonical_number(word: str) -> str:
    for spellings in NUMBER_SPELLINGS:
        if word in spellings:
            return spellings[0]
    return word


@lru_cache(maxsize=512)
def term_pattern(term: str) -> re.Pattern:
    """The regular expression that counts `term` in normalised (lowercased) text; see the module docstring."""
    words = _normalise(term).split()
    if not words:
        raise ValueError("empty discourse term")
    parts = [_word_pattern(word) for word in words[:-1]] + [_last_word_pattern(words[-1])]
    return re.compile(_BOUNDARY_BEFORE + r"\s+".join(parts) + _BOUNDARY_AFTER)


def _word_pattern(word: str) -> str:
    for spellings in NUMBER_SPELLINGS:
        if word in spellings:
            return "(?:" + "|".join(re.escape(s).replace(r"\ ", r"\s") for s in spellings) + ")"
    return r"[-\s]?".join(re.escape(piece) for piece in word.split("-"))


def _last_word_pattern(word: str) -> str:
    if not word[-1].isalpha():  # a number or an abbreviation with a dot: no inflection
        return _word_pattern(word)
    endings = [_word_pattern(word) + r"(?:e|en|s|'s)?"]
    endings += [_word_pattern(stem) + "(?:e|en)" for stem in _stems_before_vowel(word)]
    return "(?:" + "|".join(endings) + ")"


def _stems_before_vowel(word: str) -> list[str]:
    """Dutch spellings of `word` before an ending that starts with a vowel (-e, -en), besides `word` itself."""
    stems = []
    if len(word) >= 3 and word[-1] not in _VOWELS and word[-3:-1] in _LONG_VOWELS:
        stems.append(word[:-2] + word[-1])  # kwetsbaar → kwetsbar(e): an open syllable needs one vowel letter
    elif len(word) >= 3 and word[-1] not in _VOWELS and word[-2] in _VOWELS and word[-3] not in _VOWELS \
            and word[-1] not in "wxjhy":
        stems.append(word + word[-1])  # gezin → gezinn(en): a short vowel stays closed
    voiced = []
    for stem in [word] + stems:
        if stem[-1] in "fs" and stem[-2:] not in ("ff", "ss") and len(stem) >= 2 and stem[-2] in _VOWELS | set("lr"):
            voiced.append(stem[:-1] + ("v" if stem[-1] == "f" else "z"))  # responsief → responsiev(e)
    return [s for s in stems + voiced if s != word]
