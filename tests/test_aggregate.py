"""Document aggregation on hand-made sentence predictions: the arithmetic, without a model."""

import pytest

from discourse.model.aggregate import aggregate_document
from discourse.segment import split_sentences


def _prediction(relevance, sup, pres, neu, frames=None):
    cond = {"supportive": sup, "pressuring": pres, "neutral": neu}
    scores = {k: v * relevance for k, v in cond.items()}
    scores["neutral"] += 1 - relevance
    label = max(scores, key=scores.get)
    frame_scores = {"determinism": 0.0, "good_enough": 0.0, **(frames or {})}
    return {"label": label, "scores": scores, "relevance": relevance, "stance_given_relevant": cond,
            "frames": [{"frame": f, "score": s} for f, s in (frames or {}).items() if s >= 0.5],
            "frame_scores": frame_scores}


def test_relevance_weighted_stance_and_evidence():
    text = "De tram rijdt weer. Wat je mist in de eerste 1000 dagen haal je nooit meer in. Het weer is mooi."
    sentences = split_sentences(text)
    predictions = [
        _prediction(0.02, 0.1, 0.1, 0.8),
        _prediction(0.98, 0.05, 0.9, 0.05, {"determinism": 0.93}),
        _prediction(0.01, 0.3, 0.3, 0.4),
    ]
    doc = aggregate_document(sentences, predictions)
    assert doc["label"] == "pressuring"
    assert doc["relevance"] == pytest.approx(0.98)
    # weights 0.02/1.01, 0.98/1.01, 0.01/1.01 over the conditional stance
    expected_pressuring = (0.02 * 0.1 + 0.98 * 0.9 + 0.01 * 0.3) / 1.01
    assert doc["stance_given_relevant"]["pressuring"] == pytest.approx(expected_pressuring, abs=1e-4)
    assert sum(doc["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert doc["sentences"] == {"total": 3, "relevant": 1,
                                "by_label": {"supportive": 0, "pressuring": 1, "neutral": 0}}
    assert doc["frames"] == [{"frame": "determinism", "score": 0.93, "share": 1.0}]
    [evidence] = doc["evidence"]["pressuring"]
    assert evidence["sentence"] == "Wat je mist in de eerste 1000 dagen haal je nooit meer in."
    assert text[evidence["start"]:evidence["end"]] == evidence["sentence"]
    assert doc["evidence"]["supportive"] == []


def test_irrelevant_document_is_neutral():
    sentences = split_sentences("Het regent. De trein heeft vertraging.")
    doc = aggregate_document(sentences, [_prediction(0.03, 0.2, 0.6, 0.2), _prediction(0.05, 0.3, 0.5, 0.2)])
    assert doc["label"] == "neutral"
    assert doc["frames"] == []


def test_document_without_sentences_is_refused():
    with pytest.raises(ValueError):
        aggregate_document([], [])
