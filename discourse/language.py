"""Language identification, so that non-Dutch input is flagged instead of being scored as if it were Dutch.

lingua ships its models inside the wheel (no download). We restrict it to the languages a Dutch or Belgian
archive actually contains — Dutch's neighbours, the languages of large migrant communities, and Afrikaans, the one a
Dutch model would happily misread — which keeps it fast and accurate on short texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lingua import Language, LanguageDetectorBuilder

_LANGUAGES = (
    Language.DUTCH, Language.ENGLISH, Language.FRENCH, Language.GERMAN, Language.SPANISH, Language.ITALIAN,
    Language.PORTUGUESE, Language.TURKISH, Language.ARABIC, Language.POLISH, Language.ROMANIAN,
    Language.AFRIKAANS, Language.DANISH, Language.SWEDISH, Language.INDONESIAN,
)

#: Language is decided on the first this-many characters. lingua's cost grows with the length; on NOS articles
#: 600 characters gave the same answer as 2,000 at a seventh of the time (1.8 vs 14 ms an article), and language
#: detection had been the second-largest stage of archive scoring after the model.
SAMPLE_CHARS = 600

#: Below this many letters a text carries too little evidence; it is accepted as Dutch ("Ja.", "Oké!").
MIN_LETTERS = 12


@dataclass(frozen=True)
class LanguageGuess:
    code: str  # ISO 639-1, or "und" when undecided
    confidence: float

    @property
    def is_dutch(self) -> bool:
        return self.code == "nl"


@lru_cache(maxsize=1)
def _detector():
    return LanguageDetectorBuilder.from_languages(*_LANGUAGES).with_preloaded_language_models().build()


def detect_language(text: str) -> LanguageGuess:
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        return LanguageGuess("nl", 0.0)
    values = _detector().compute_language_confidence_values(text[:SAMPLE_CHARS])
    if not values:
        return LanguageGuess("und", 0.0)
    best = values[0]
    return LanguageGuess(best.language.iso_code_639_1.name.lower(), float(best.value))
