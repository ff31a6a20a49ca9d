"""Scoring archive articles in batches: the pre-filter spares the model without changing any sentence it lets
through, non-Dutch articles are rejected with a reason, and a batch's results do not depend on its company."""

from __future__ import annotations

import pytest

from discourse.model.framing import FramingModel
from discourse.pipeline.score import Document, Refusal, ScoredDocument, score_documents
from discourse.model.prefilter import RelevancePrefilter
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


def scored_and_refused(model, articles, prefilter):
    """(scored, refused, batch): the scored documents and the refusals of a batch, in input order."""
    batch = score_documents(model, [Document(key, text) for key, text in articles], prefilter=prefilter)
    return ([r for r in batch.results if isinstance(r, ScoredDocument)],
            [r for r in batch.results if isinstance(r, Refusal)], batch)


@pytest.fixture(scope="module")
def model():
    return FramingModel.load(DEFAULT_MODEL_DIR)


def test_prefilter_spares_the_model_and_changes_no_passed_sentence(model):
    prefilter = RelevancePrefilter.load()
    filtered_articles, refused, filtered = scored_and_refused(model, ARTICLES, prefilter)
    full_articles, _, full = scored_and_refused(model, ARTICLES, None)
    assert [r.key for r in refused] == ["a3"] and refused[0].reason_code == "not_dutch"
    assert filtered.sentences_total == full.sentences_total == full.sentences_to_model
    assert 0 < filtered.sentences_to_model < filtered.sentences_total  # the finance article never reaches the model
    for mine, theirs in zip(filtered_articles, full_articles):
        for a, b in zip(mine.sentences, theirs.sentences):
            assert (a["start"], a["end"], a["text"]) == (b["start"], b["end"], b["text"])
            if a["passed_prefilter"]:
                assert a["scores"] == b["scores"] and a["relevance"] == b["relevance"] and a["frames"] == b["frames"]
            else:
                assert a["relevance"] == 0.0 and a["label"] == "neutral"
    by_id = {a.key: a for a in filtered_articles}
    assert by_id["a4"].document["label"] == "pressuring"
    assert by_id["a2"].document["relevance"] < 0.5 and by_id["a2"].document["label"] == "neutral"
    assert by_id["a4"].document["evidence"]["pressuring"]


def test_an_articles_scores_do_not_depend_on_its_batch(model):
    prefilter = RelevancePrefilter.load()
    alone = scored_and_refused(model, ARTICLES[3:], prefilter)[0][0]
    together = scored_and_refused(model, ARTICLES, prefilter)[0][-1]
    assert alone.document == together.document
