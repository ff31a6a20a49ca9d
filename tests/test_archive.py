"""Scoring archive articles in batches: the pre-filter spares the model without changing any sentence it lets
through, non-Dutch articles are rejected with a reason, and a batch's results do not depend on its company."""

from __future__ import annotations

import pytest

from discourse.archive import score_articles
from discourse.framing import FramingModel
from discourse.prefilter import RelevancePrefilter
from discourse.settings import DEFAULT_MODEL_DIR

pytestmark = pytest.mark.encoder

ARTICLES = [
    ("a1", "Het kabinet wil het geboorteverlof voor partners verlengen. Ouders krijgen zo meer tijd met hun baby. "
           "De Tweede Kamer stemt volgende week over het voorstel. Het Nederlands elftal speelt die avond in Rotterdam."),
    ("a2", "De beurskoersen sloten vrijdag hoger. ASML publiceerde sterke cijfers. Beleggers reageerden opgetogen."),
    ("a3", "This article is written in English and should never be scored by a Dutch framing model at all."),
    ("a4", "Als je in de eerste 1000 dagen niet elke dag voorleest, loopt je kind een achterstand op. "
           "Zo waarschuwen experts in een nieuwe campagne."),
]


@pytest.fixture(scope="module")
def model():
    return FramingModel.load(DEFAULT_MODEL_DIR)


def test_prefilter_spares_the_model_and_changes_no_passed_sentence(model):
    prefilter = RelevancePrefilter.load()
    filtered = score_articles(model, ARTICLES, prefilter)
    full = score_articles(model, ARTICLES, None)
    assert [r.record_id for r in filtered.rejections] == ["a3"] and filtered.rejections[0].reason_code == "not_dutch"
    assert filtered.sentences_total == full.sentences_total == full.sentences_to_model
    assert 0 < filtered.sentences_to_model < filtered.sentences_total  # the finance article never reaches the model
    for mine, theirs in zip(filtered.articles, full.articles):
        for a, b in zip(mine.sentences, theirs.sentences):
            assert (a["start"], a["end"], a["text"]) == (b["start"], b["end"], b["text"])
            if a["passed_prefilter"]:
                assert a["scores"] == b["scores"] and a["relevance"] == b["relevance"] and a["frames"] == b["frames"]
            else:
                assert a["relevance"] == 0.0 and a["label"] == "neutral"
    by_id = {a.record_id: a for a in filtered.articles}
    assert by_id["a4"].document["label"] == "pressuring"
    assert by_id["a2"].document["relevance"] < 0.5 and by_id["a2"].document["label"] == "neutral"
    assert by_id["a4"].document["evidence"]["pressuring"]


def test_an_articles_scores_do_not_depend_on_its_batch(model):
    prefilter = RelevancePrefilter.load()
    alone = score_articles(model, ARTICLES[3:], prefilter).articles[0]
    together = score_articles(model, ARTICLES, prefilter).articles[-1]
    assert alone.document == together.document
