"""The Dutch words a topic is described by: tokenisation and stop words for BERTopic's c-TF-IDF.

The stop words are `discourse.vocabulary`'s, for its TOPIC_LABELS use (fillers, hedging, reporting and norm
words all dropped: a label should say what a topic is about, not that people say "denk" and "moet" in it).

The tokeniser is a `token_pattern`, not a Python callable: BERTopic's safetensors serialisation keeps the
CountVectorizer's parameters (pattern, stop words, vocabulary) but drops a callable tokenizer, so only a pattern
survives save/load and gives the same terms after it.
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import CountVectorizer

from ..vocabulary import TOPIC_LABELS, stop_words

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


def dutch_vectorizer(texts: list[str], language: str = "nl", ngram_range: tuple[int, int] = (1, 2)) -> CountVectorizer:
    """The CountVectorizer BERTopic computes c-TF-IDF with, its vocabulary fixed from `texts`.

    Why fixed: BERTopic fits the vectorizer on one joined document per topic, so its own `min_df` would count
    topics, not texts (min_df=3 would keep only words found in three topics: the opposite of distinctive).
    The frequency filter is therefore applied here, per text, and its result passed as `vocabulary`."""
    stop_words = dutch_stop_words(language)
    counter = CountVectorizer(token_pattern=TOKEN_PATTERN, stop_words=stop_words, ngram_range=ngram_range,
                              min_df=min_df_for(len(texts)), lowercase=True)
    try:
        counter.fit(texts)
    except ValueError:  # scikit-learn's "empty vocabulary" names no cause a user can act on
        raise ValueError(f"the {len(texts)} texts contain no word of two or more letters that is not a stop word "
                         f"(min_df={min_df_for(len(texts))}): there is nothing to describe topics with") from None
    vocabulary = counter.get_feature_names_out().tolist()
    return CountVectorizer(token_pattern=TOKEN_PATTERN, stop_words=stop_words, ngram_range=ngram_range,
                           lowercase=True, vocabulary=vocabulary)
