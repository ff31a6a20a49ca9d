"""The Dutch words a topic is described by: tokenisation and stop words for BERTopic's c-TF-IDF.

The stop words are `discourse.vocabulary`'s, for its TOPIC_LABELS use (fillers, hedging, reporting and norm
words all dropped: a label should say what a topic is about, not that people say "denk" and "moet" in it).

Terms are lemmas, and inflected verb forms are no terms (`topic_document`): "krijgt", "lacht" and "blijft" occur
in every theme and say nothing about one, and "vader" and "vaders" are one term. No Dutch part-of-speech tagger is
installed, so the verbs are found by a heuristic on simplemma's lemma (`is_verb_form`).

The tokeniser is a `token_pattern`, not a Python callable: BERTopic's safetensors serialisation keeps the
CountVectorizer's parameters (pattern, stop words, vocabulary) but drops a callable tokenizer, so only a pattern
survives save/load and gives the same terms after it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ..compare.tokens import lemma, tokenize
from ..vocabulary import TOPIC_LABELS, stop_words

if TYPE_CHECKING:  # scikit-learn is imported when a vectorizer is made: a served process that never fits topics
    from sklearn.feature_extraction.text import CountVectorizer  # does not carry it (~200 MB with scipy, pandas)

#: Lowercase words of two or more letters (accents included: "geïnformeerd", "crèche"); digits and underscores
#: are not letters, so numbers and tokens such as "covid19" never become terms.
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"


def _tokens(text: str) -> list[str]:
    return re.findall(TOKEN_PATTERN, text.lower())


def dutch_stop_words(language: str = "nl") -> list[str]:
    """The TOPIC_LABELS stop words for `language`, as tokens of TOKEN_PATTERN (sorted, so the saved vectorizer is
    the same on every run). An entry the pattern splits ("z'n") contributes its pieces that are words; otherwise
    scikit-learn warns that the stop words and the tokeniser disagree."""
    return sorted({token for word in stop_words(TOPIC_LABELS, language) for token in _tokens(word)})


# Infinitives that do not end in -en ("gaan", "zien", "doen", "zijn" and their compounds: "opstaan", "aandoen").
_SHORT_INFINITIVES = ("gaan", "staan", "slaan", "zien", "doen", "zijn")


def is_verb_form(token: str, token_lemma: str) -> bool:
    """Whether `token` is an inflected verb ("krijgt", "lachte", "gezien"): its lemma is an infinitive (ends in
    -en, or is one of the short ones) and differs from it. An infinitive itself stays ("borstvoeding geven", "het
    eten"), and so does a plural in -s of a noun in -en ("keukens"); an infinitive that simplemma reads as a plural
    noun ("wachten" -> "wacht") is recognised by its lemma's lemma being the infinitive again. It errs on the side
    of dropping: a noun that simplemma reads as a verb form ("slaap" -> "slapen") is dropped too, its compounds
    ("slaaptekort") stay."""
    if token == token_lemma or token == token_lemma + "s":
        return False
    if token.endswith("en") and lemma(token_lemma) == token:
        return True  # an infinitive or plural verb simplemma cut to a stem ("wachten" -> "wacht" -> "wachten")
    return token_lemma.endswith("en") or token_lemma.endswith(_SHORT_INFINITIVES)


# Domain nouns simplemma takes for another word: "ouder" (parent) is read as the comparative of "oud" (old).
_LEMMA_FIXES = {"ouder": "ouder"}


@lru_cache(maxsize=200_000)
def _term(token: str, stop: frozenset[str]) -> str | None:
    if token in stop:
        return None
    token_lemma = _LEMMA_FIXES.get(token) or lemma(token)
    if token_lemma in stop or is_verb_form(token, token_lemma):
        return None
    return token_lemma


def _terms(text: str, language: str) -> list[str | None]:
    stop = stop_words(TOPIC_LABELS, language)
    return [_term(token, stop) for token in tokenize(text)]


def topic_document(text: str, language: str = "nl") -> str:
    """`text` as c-TF-IDF reads it: lemmas of its words, without stop words (before or after lemmatising) and
    without inflected verbs, space-separated in their order."""
    return " ".join(term for term in _terms(text, language) if term)


def adjacent_bigrams(texts: list[str], language: str = "nl") -> set[str]:
    """The multi-word terms of `texts`: two content words next to each other in the text itself ("slechte
    aanhap" -> "slecht aanhap", "borstvoeding geven"). The vectorizer makes bigrams after dropping stop words,
    so "Sarah vond na drie maanden" would give "sarah maand", a pair nobody wrote; only these pairs are kept."""
    pairs: set[str] = set()
    for text in texts:
        terms = _terms(text, language)
        pairs.update(f"{a} {b}" for a, b in zip(terms, terms[1:]) if a and b)
    return pairs


def min_df_for(n_texts: int) -> int:
    """In how many texts a term must occur to be a candidate at all. In a small corpus every occurrence counts;
    in a large one a word or bigram seen in one or two sentences is a name, a typo or an accident, and bigrams
    make such one-offs the bulk of the vocabulary (memory and time of c-TF-IDF)."""
    if n_texts < 2_000:
        return 1
    if n_texts < 10_000:
        return 2
    if n_texts < 50_000:
        return 3
    return 5


def dutch_vectorizer(texts: list[str], language: str = "nl", ngram_range: tuple[int, int] = (1, 2),
                     bigrams: set[str] | None = None) -> CountVectorizer:
    """The CountVectorizer BERTopic computes c-TF-IDF with, its vocabulary fixed from `texts`.

    Why fixed: BERTopic fits the vectorizer on one joined document per topic, so its own `min_df` would count
    topics, not texts (min_df=3 would keep only words found in three topics: the opposite of distinctive).
    The frequency filter is therefore applied here, per text, and its result passed as `vocabulary`. With
    `bigrams` (adjacent_bigrams of the texts), only those two-word terms are kept."""
    from sklearn.feature_extraction.text import CountVectorizer

    stop_words = dutch_stop_words(language)
    counter = CountVectorizer(token_pattern=TOKEN_PATTERN, stop_words=stop_words, ngram_range=ngram_range,
                              min_df=min_df_for(len(texts)), lowercase=True)
    try:
        counter.fit(texts)
    except ValueError:  # scikit-learn's "empty vocabulary" names no cause a user can act on
        raise ValueError(f"the {len(texts)} texts contain no word of two or more letters that is not a stop word "
                         f"(min_df={min_df_for(len(texts))}): there is nothing to describe topics with") from None
    vocabulary = [term for term in counter.get_feature_names_out().tolist()
                  if bigrams is None or " " not in term or term in bigrams]
    return CountVectorizer(token_pattern=TOKEN_PATTERN, stop_words=stop_words, ngram_range=ngram_range,
                           lowercase=True, vocabulary=vocabulary)
