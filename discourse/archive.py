"""Scoring one batch of archive articles: the plain, engine-free function that the local loop and Ray both run.

Stages, per article: language (non-Dutch is rejected, not scored) → Dutch sentences → the relevance pre-filter →
the framing model on the sentences that pass → the document aggregate with evidence sentences. A sentence the
pre-filter drops is scored as irrelevant without the model (relevance 0, neutral); every sentence that passes gets
exactly the row it would get without the filter, because the encoder scores each text on its own.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from .codebook import STANCES
from .language import LanguageCheckMode, check_language
from .prefilter import RelevancePrefilter
from .segment import split_sentences


@dataclass
class ArticleRejection:
    record_id: str
    reason_code: str
    reason: str


@dataclass
class ScoredArticle:
    record_id: str
    language: str
    document: dict  # the document-level result (label, scores, relevance, frames, sentences, evidence)
    sentences: list[dict]  # per sentence: position, start, end, text, passed_prefilter and its prediction
    language_fields: dict = field(default_factory=dict)  # language_uncertain (and what was detected, when it is)


@dataclass
class ScoredBatch:
    articles: list[ScoredArticle] = field(default_factory=list)
    rejections: list[ArticleRejection] = field(default_factory=list)
    sentences_total: int = 0
    sentences_to_model: int = 0
    stage_seconds: Counter = field(default_factory=Counter)  # language, segment, prefilter, model, aggregate


def score_articles(model, articles: list[tuple[str, str]], prefilter: RelevancePrefilter | None = None,
                   language_check: LanguageCheckMode = "strict") -> ScoredBatch:
    """`articles`: (record id, text) pairs. Returns one ScoredArticle or one ArticleRejection per article.
    `language_check` (discourse.language.LANGUAGE_CHECKS): which articles are rejected as not Dutch."""
    batch = ScoredBatch()
    plans = []
    for record_id, text in articles:
        with _timed(batch.stage_seconds, "language"):
            language = check_language(text, language_check)
        if language.refuse:
            batch.rejections.append(ArticleRejection(record_id, "not_dutch", language.reason()))
            continue
        with _timed(batch.stage_seconds, "segment"):
            sentences = split_sentences(text)
        if not sentences:
            batch.rejections.append(ArticleRejection(record_id, "no_sentences", "no sentence found in the text"))
            continue
        plans.append((record_id, sentences, language))
    texts = [s.text for _, sentences, _ in plans for s in sentences]
    with _timed(batch.stage_seconds, "prefilter"):
        passed = prefilter.passes(texts) if prefilter is not None and texts else [True] * len(texts)
    to_model = [t for t, p in zip(texts, passed) if p]
    with _timed(batch.stage_seconds, "model"):
        predictions = iter(model.predict(to_model) if to_model else [])
    skipped = _irrelevant_prediction(model.frames_head.labels)
    batch.sentences_total += len(texts)
    batch.sentences_to_model += len(to_model)
    flags = iter(passed)
    with _timed(batch.stage_seconds, "aggregate"):
        for record_id, sentences, language in plans:
            rows, sentence_rows = [], []
            for position, sentence in enumerate(sentences):
                went = bool(next(flags))
                prediction = next(predictions) if went else skipped
                rows.append(prediction)
                sentence_rows.append({"position": position, "start": sentence.start, "end": sentence.end,
                                      "text": sentence.text, "passed_prefilter": went, **prediction})
            document = model.aggregate(sentences, rows)
            fields = {k: v for k, v in language.fields().items() if k != "language"}
            batch.articles.append(ScoredArticle(record_id, "nl", document, sentence_rows, fields))
    return batch


@contextmanager
def _timed(seconds: Counter, stage: str):
    """Adds the wall time of the `with` block to seconds[stage]."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] += time.perf_counter() - started


def _irrelevant_prediction(frame_names: list[str]) -> dict:
    """What a sentence the pre-filter drops counts as: not about early parenthood, so neutral."""
    neutral = {s: float(s == "neutral") for s in STANCES}
    return {"label": "neutral", "scores": dict(neutral), "relevance": 0.0, "stance_given_relevant": dict(neutral),
            "frames": [], "frame_scores": {name: 0.0 for name in frame_names}}
