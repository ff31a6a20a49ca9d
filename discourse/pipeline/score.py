"""Scoring documents: language → segment → pre-filter → predict → aggregate, for every caller.

Plain and engine-free: documents in, one result per document out (a ScoredDocument, or a Refusal with a reason
code), in input order. What the callers need differently are options: the level ("sentence": the text is one unit;
"document": its sentences are scored and aggregated), a relevance pre-filter (archive scoring), and units the
caller segmented itself (an interview's sentences, turn by turn, of which only the respondents' count towards the
document). Rows for the store or for output are the callers' business.

A sentence the pre-filter drops is scored as irrelevant without the model (relevance 0, neutral); every sentence
that passes gets exactly the prediction it would get without the filter, because the encoder scores each text on
its own. For the same reason a document's result does not depend on the documents scored with it, nor on how many
model calls its units are spread over (the service's micro-batcher encodes them in turns: `plan_document` and
`DocumentPlan.finish`).
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from ..codebook import STANCES
from ..ingest.records import Rejection
from ..segment import split_sentences
from ..text import Sentence
from .language import LanguageCheckMode, LanguageVerdict, check_language

Level = Literal["sentence", "document"]

#: Reason codes of a document that is not scored, as the store's rejected-records table knows them.
NOT_DUTCH = "not_dutch"
NO_SENTENCES = "no_sentences"
NO_SENTENCES_REASON = "no sentence found in the text"


@dataclass
class Document:
    """A text to score. `key`: the caller's handle, handed back with the result. `text`: what the language check
    reads, and what is split into sentences unless the caller brings them (`sentences`, with offsets in its own
    source). `counted`: which of those sentences the document's aggregate counts (default all): an interview counts
    its respondents' sentences, not the interviewer's."""
    key: Any
    text: str
    sentences: list[Sentence] | None = None
    counted: list[bool] | None = None


@dataclass
class Refusal:
    """A document that is not scored: the reason code (`not_dutch`, `no_sentences`), the reason, and for a text
    refused as not Dutch, the language detected instead."""
    key: Any
    reason_code: str
    reason: str
    language: str | None = None

    def as_rejection(self, path: str, position: int, record_id: str | None, excerpt: str | None = None) -> Rejection:
        """The refusal as a rejected record of the store, at the caller's place in its input."""
        return Rejection(path, position, record_id, self.reason_code, self.reason, excerpt)


@dataclass
class ScoredDocument:
    key: Any
    #: the document's result: the aggregate over its counted sentences (label, scores, relevance, frames,
    #: sentences, evidence), or at sentence level (or for a model that pools documents itself) the one prediction
    document: dict
    #: per sentence: position, start, end, text, passed_prefilter and its prediction (empty when not split)
    sentences: list[dict]
    language: LanguageVerdict


@dataclass
class ScoredDocuments:
    results: list[ScoredDocument | Refusal] = field(default_factory=list)  # one per document, in input order
    sentences_total: int = 0  # units of the scored documents
    sentences_to_model: int = 0  # of those, the ones the pre-filter let through to the model
    stage_seconds: Counter = field(default_factory=Counter)  # language, segment, prefilter, model, aggregate


@dataclass
class DocumentPlan:
    """One document on its way through the model: the texts the model must see (`units`: the text itself, or its
    sentences) and how its result is made from their predictions. A refused document has no units."""
    key: Any
    units: list[str] = field(default_factory=list)
    sentences: list[Sentence] | None = None  # None: one unit, whose prediction is the result
    counted: list[bool] | None = None
    language: LanguageVerdict | None = None
    refusal: Refusal | None = None

    def finish(self, model, predictions: list[dict], passed: list[bool] | None = None) -> ScoredDocument | Refusal:
        """The result, from one prediction per unit, in order (`passed`: which units the pre-filter let through;
        default all)."""
        if self.refusal is not None:
            return self.refusal
        if self.sentences is None:
            return ScoredDocument(self.key, predictions[0], [], self.language)
        passed = passed or [True] * len(predictions)
        rows = [{"position": position, "start": sentence.start, "end": sentence.end, "text": sentence.text,
                 "passed_prefilter": bool(went), **prediction}
                for position, (sentence, prediction, went) in enumerate(zip(self.sentences, predictions, passed))]
        counted = self.counted or [True] * len(self.sentences)
        document = model.aggregate([s for s, c in zip(self.sentences, counted) if c],
                                   [p for p, c in zip(predictions, counted) if c])
        return ScoredDocument(self.key, document, rows, self.language)


def plan_document(document: Document, level: Level = "document", language_check: LanguageCheckMode = "strict",
                  model=None, seconds: Counter | None = None) -> DocumentPlan:
    """Everything before the model: the language check and, at document level, the sentences. A model that pools a
    document's sentences itself (trained so: `pools_documents`) gets the whole text as one unit."""
    seconds = Counter() if seconds is None else seconds
    with _timed(seconds, "language"):
        language = check_language(document.text, language_check)
    if language.refuse:
        return DocumentPlan(document.key, refusal=Refusal(document.key, NOT_DUTCH, language.reason(),
                                                          language.guess.code))
    if level == "sentence" or getattr(model, "pools_documents", False):
        return DocumentPlan(document.key, [document.text.strip()], language=language)
    with _timed(seconds, "segment"):
        sentences = document.sentences if document.sentences is not None else split_sentences(document.text)
    if not any(document.counted or [True] * len(sentences)):
        return DocumentPlan(document.key, refusal=Refusal(document.key, NO_SENTENCES, NO_SENTENCES_REASON))
    return DocumentPlan(document.key, [s.text for s in sentences], sentences, document.counted, language)


def score_documents(model, documents: list[Document], level: Level = "document", prefilter=None,
                    language_check: LanguageCheckMode = "strict") -> ScoredDocuments:
    """Score `documents` with `model` (a FramingModel; a TextClassifier at sentence level or pooling documents) in
    one model call. `prefilter` (a RelevancePrefilter): sentences it drops skip the model. `language_check`
    (discourse.pipeline.language.LANGUAGE_CHECKS): which documents are refused as not Dutch."""
    out = ScoredDocuments()
    plans = [plan_document(document, level, language_check, model, out.stage_seconds) for document in documents]
    texts = [unit for plan in plans for unit in plan.units]
    with _timed(out.stage_seconds, "prefilter"):
        passed = list(prefilter.passes(texts)) if prefilter is not None and texts else [True] * len(texts)
    to_model = [t for t, p in zip(texts, passed) if p]
    with _timed(out.stage_seconds, "model"):
        predicted = iter(model.predict(to_model) if to_model else [])
    out.sentences_total, out.sentences_to_model = len(texts), len(to_model)
    skipped = _irrelevant_prediction(model.frames_head.labels) if not all(passed) else None
    predictions = [next(predicted) if p else skipped for p in passed]
    first = 0
    with _timed(out.stage_seconds, "aggregate"):
        for plan in plans:
            last = first + len(plan.units)
            out.results.append(plan.finish(model, predictions[first:last], passed[first:last]))
            first = last
    return out


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
