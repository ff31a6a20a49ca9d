"""discourse.vocabulary: one Dutch stop-word list, read one way for topic labels and another for keyness."""

from __future__ import annotations

import re

import pytest

from discourse.compare import keyness
from discourse.topics import dutch_stop_words
from discourse.topics.vocabulary import TOKEN_PATTERN
from discourse.vocabulary import KEYNESS, TOPIC_LABELS, stop_words

FILLERS = ("ja", "nee", "euh", "eh", "uhm", "hmm", "ok", "oké", "zo", "gewoon", "eigenlijk", "allee", "ge", "gij",
           "da", "nu", "wel", "echt", "heel", "dus", "de", "het", "efkes", "kzou", "jaja", "zedde")
# Stop words for topic labels, terms for keyness: hedging, reporting and light verbs, norms and absolutes.
DISPUTED = ("denk", "weet", "vind", "zegt", "gaan", "moet", "moeten", "mag", "altijd", "genoeg", "allemaal", "keer")
CONTENT = ("goed", "hechting", "kind", "baby", "ouders", "moeder", "papa", "bepalen")


@pytest.mark.parametrize("use", [TOPIC_LABELS, KEYNESS])
def test_both_uses_drop_the_same_fillers_and_keep_the_domain_nouns(use):
    words = stop_words(use)
    assert [word for word in FILLERS if word not in words] == []
    assert [word for word in CONTENT if word in words] == []


def test_topic_labels_drop_hedging_reporting_and_norm_words_that_keyness_keeps():
    assert [word for word in DISPUTED if word not in stop_words(TOPIC_LABELS)] == []
    assert [word for word in DISPUTED if word in stop_words(KEYNESS)] == []
    assert stop_words(KEYNESS) < stop_words(TOPIC_LABELS)


def test_topic_stop_words_are_tokens_of_the_topic_pattern():
    words = dutch_stop_words()
    assert words == sorted(words)
    assert all(re.fullmatch(TOKEN_PATTERN, word) for word in words)
    assert "zo" in words and "denk" in words and "zo'n" not in words


def test_keyness_finds_that_parents_hedge_but_not_that_they_hesitate():
    parents = ["euh ik denk dat ik het wel weet, euh, ik weet het niet, ik denk van wel"] * 10
    press = ["de minister zegt dat het beleid volgend jaar verandert"] * 10
    result = keyness(parents, press, min_freq=5)
    key_for_parents = {term.term for term in result.top_a}
    assert {"denk", "weet"} <= key_for_parents
    assert "euh" not in key_for_parents
    assert "zegt" in {term.term for term in result.top_b}


def test_an_unknown_use_is_an_error():
    with pytest.raises(ValueError, match="unknown stop-word use"):
        stop_words("labels")
