"""The Dutch words a topic is described by: tokenisation and stop words for BERTopic's c-TF-IDF.

The tokeniser is a `token_pattern`, not a Python callable: BERTopic's safetensors serialisation keeps the
CountVectorizer's parameters (pattern, stop words, vocabulary) but drops a callable tokenizer, so only a pattern
survives save/load and gives the same terms after it.
"""

from __future__ import annotations

import re

import stopwordsiso
from sklearn.feature_extraction.text import CountVectorizer

#: Lowercase words of two or more letters (accents included: "geïnformeerd", "crèche"); digits and underscores
#: are not letters, so numbers and tokens such as "covid19" never become terms.
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"

# Spoken Dutch and Flemish fills sentences with words that say nothing about what is discussed; in interviews
# and focus groups they are the most frequent tokens, and c-TF-IDF would put them in the label of whichever
# topic is the most "spoken". stopwordsiso already has ja, nee, ge, dus, eigenlijk, gewoon, heel, wel, nu, zo,
# toch, tja, precies, misschien, beetje, inderdaad; these are the ones it lacks.
FILLERS = """
    euh eh ehm uh uhm hm hmm mm mmm ah oh oei amai awel allee allez bon hé hè he nou hoor zeg ok oké okay
    gij da nie ni wa ne nen kik zijt hebde zedde goa efkes eventjes ewa enzo ofzo zoiets dinges allemaal
    helemaal natuurlijk echt best eens keer één eén weet denk denkt vind vindt
""".split()

# News and reports wrap every statement in a reporting verb ("…, zegt de minister"): as frequent and as empty
# as a filler, so they go too. Light verbs likewise: "gaan" and "komen" appear in every theme.
REPORTING_AND_LIGHT_VERBS = """
    zegt zeggen gezegd gaan gaat ging gingen gegaan komen komt kwam kwamen gekomen laten laat liet
""".split()

# Deliberately NOT stop words: kind, kinderen, baby, ouders, moeder, mama, vader, papa, partner, gezin, maanden,
# weken. They are the domain's most frequent nouns, but c-TF-IDF's idf factor already discounts a word spread
# evenly over all topics, so one only reaches a label where it is concentrated, and that concentration is the
# finding: "papa"/"vader" marks the father-as-helper theme, "moeder" versus "ouders" separates gendered from
# neutral framing, and `TopicModel.shares` compares exactly such differences between mothers and fathers.
# Removing them would make the topics blind to who a text is about.


def _tokens(text: str) -> list[str]:
    return re.findall(TOKEN_PATTERN, text.lower())


def dutch_stop_words(language: str = "nl") -> list[str]:
    """stopwordsiso's list for `language` plus the domain's fillers, as tokens of TOKEN_PATTERN (sorted, so the
    saved vectorizer is the same on every run). An entry the pattern splits ("z'n") contributes its pieces that
    are words; otherwise scikit-learn warns that the stop words and the tokeniser disagree."""
    words = set(stopwordsiso.stopwords(language)) | set(FILLERS) | set(REPORTING_AND_LIGHT_VERBS)
    return sorted({token for word in words for token in _tokens(word)})


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
