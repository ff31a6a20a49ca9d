"""From sentence predictions to a document's stance, frame profile and evidence.

Each sentence votes with its weight of relevance: a long article about the budget with one sentence on
kinderopvang is judged on that sentence, not drowned by the rest. The document's relevance is its most relevant
sentence's; its stance given relevance is the relevance-weighted mean of the sentences' conditional stances.
The label weighs that mean's neutral share by `neutral_weight` (a model setting, chosen on real documents): most
sentences of a document that coders call pressuring or supportive are themselves neutral (facts, procedure), so
an unweighted mean calls nearly every document neutral.
"""

from __future__ import annotations

import numpy as np

from ..codebook import STANCES
from ..text import Sentence

EVIDENCE_PER_SIDE = 3


def aggregate_document(sentences: list[Sentence], predictions: list[dict], relevance_threshold: float = 0.5,
                       frame_thresholds: dict[str, float] | None = None, neutral_weight: float = 1.0) -> dict:
    """Combine per-sentence predictions (FramingModel.predict rows) into one document-level result."""
    if not sentences:
        raise ValueError("a document needs at least one sentence")
    relevance = np.array([p["relevance"] for p in predictions])
    conditional = np.array([[p["stance_given_relevant"][s] for s in STANCES] for p in predictions])
    doc_relevance = float(relevance.max())
    weights = relevance / relevance.sum() if relevance.sum() > 0 else np.full(len(relevance), 1 / len(relevance))
    stance_given_relevant = weights @ conditional
    weighted = stance_given_relevant * np.where(np.arange(len(STANCES)) == STANCES.index("neutral"), neutral_weight, 1)
    scores = weighted / weighted.sum() * doc_relevance
    scores[STANCES.index("neutral")] += 1.0 - doc_relevance

    relevant = relevance >= relevance_threshold
    sentence_labels = [p["label"] for p in predictions]
    profile = {s: int(sum(1 for r, l in zip(relevant, sentence_labels) if r and l == s)) for s in STANCES}

    frames = _frame_profile(predictions, relevant, frame_thresholds or {})
    return {
        "label": STANCES[int(scores.argmax())],
        "scores": {s: round(float(v), 4) for s, v in zip(STANCES, scores)},
        "relevance": round(doc_relevance, 4),
        "stance_given_relevant": {s: round(float(v), 4) for s, v in zip(STANCES, stance_given_relevant)},
        "frames": frames,
        "sentences": {"total": len(sentences), "relevant": int(relevant.sum()), "by_label": profile},
        "evidence": _evidence(sentences, predictions),
    }


def _frame_profile(predictions: list[dict], relevant: np.ndarray, thresholds: dict[str, float]) -> list[dict]:
    """A frame is present when at least one relevant sentence passes its threshold; score = strongest sentence,
    share = fraction of relevant sentences that carry it."""
    names = list(predictions[0]["frame_scores"])
    n_relevant = max(int(relevant.sum()), 1)
    out = []
    for name in names:
        probs = np.array([p["frame_scores"][name] for p in predictions])[relevant]
        if probs.size == 0:
            continue
        hits = probs >= thresholds.get(name, 0.5)
        if hits.any():
            out.append({"frame": name, "score": round(float(probs.max()), 4),
                        "share": round(float(hits.sum()) / n_relevant, 4)})
    return sorted(out, key=lambda f: -f["score"])


def _evidence(sentences: list[Sentence], predictions: list[dict]) -> dict:
    """Top sentences each way, ranked by the product score (relevance × stance), above chance only."""
    evidence = {}
    for side in ("pressuring", "supportive"):
        ranked = sorted(range(len(sentences)), key=lambda i: -predictions[i]["scores"][side])
        evidence[side] = [
            {"sentence": sentences[i].text, "start": sentences[i].start, "end": sentences[i].end,
             "score": predictions[i]["scores"][side], "relevance": predictions[i]["relevance"],
             "frames": [f["frame"] for f in predictions[i]["frames"]]}
            for i in ranked[:EVIDENCE_PER_SIDE]
            if predictions[i]["label"] == side
        ]
    return evidence
