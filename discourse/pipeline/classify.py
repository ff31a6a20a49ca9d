"""Classifying records with a framing model, at sentence or document level.

This is the one place that turns input records into output rows; the CLI and the HTTP service both call it (the
service through `plan_record` and `RecordPlan.finish`, encoding the units in between in turns of its own). The
scoring itself is discourse.pipeline.score's, as for archives and interviews.
Records are processed in chunks so the encoder sees full batches, and every record gets exactly one output row,
in input order — an error row when the record cannot be processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator

from ..ingest.records import Rejection
from ..model.loading import Model
from .language import LanguageCheckMode, require_mode
from .score import (NOT_DUTCH, Document, DocumentPlan, Level, Refusal, ScoredDocument, plan_document,
                    score_documents)

CHUNK = 64  # records per encoder round; big enough to batch well, small enough to stream


def classify_records(model: Model, records: Iterable[dict | Rejection], level: Level = "sentence",
                     language_check: LanguageCheckMode = "strict") -> Iterator[dict]:
    """Yield one output row per input record, in order. Input fields pass through; "text" is not echoed.
    `language_check` (discourse.pipeline.language.LANGUAGE_CHECKS): which texts are refused as not Dutch."""
    if level not in ("sentence", "document"):
        raise ValueError(f"level must be 'sentence' or 'document', got {level!r}")
    require_mode(language_check)
    iterator = iter(records)
    while chunk := list(islice(iterator, CHUNK)):
        yield from _classify_chunk(model, chunk, level, language_check)


def classify_texts(model: Model, texts: list[str], level: Level = "sentence",
                   language_check: LanguageCheckMode = "strict") -> list[dict]:
    return list(classify_records(model, ({"text": t} for t in texts), level, language_check))


def _classify_chunk(model: Model, chunk: list[dict | Rejection], level: Level,
                    language_check: LanguageCheckMode) -> list[dict]:
    documents = [Document(i, item["text"]) for i, item in enumerate(chunk) if not isinstance(item, Rejection)]
    results = iter(score_documents(model, documents, level, language_check=language_check).results)
    return [_error_row(item.record, item.reason) if isinstance(item, Rejection) else _row(item, next(results), model)
            for item in chunk]


@dataclass
class RecordPlan:
    """One record on its way through the model: the texts the encoder must see (`units`: the text itself, or a
    document's sentences) and how its row is made from their predictions. A record that needs no model (broken, or
    refused as not Dutch) has no units.

    The predictions may come in any number of model calls: a caller that cuts a long document's units into turns
    (the service's micro-batcher) gets the row it would have got from one call, because each text's prediction is a
    function of that text alone."""
    record: dict | None
    document: DocumentPlan | None = None  # None for a broken record
    error: str | None = None  # why a broken record is broken

    @property
    def units(self) -> list[str]:
        return self.document.units if self.document is not None else []

    def finish(self, model: Model, predictions: list[dict]) -> dict:
        """The output row, from one prediction per unit, in order."""
        if self.document is None:
            return _error_row(self.record, self.error)
        return _row(self.record, self.document.finish(model, predictions), model)


def plan_record(item: dict | Rejection, level: Level, language_check: LanguageCheckMode,
                model: Model | None = None) -> RecordPlan:
    """Everything before the model: the language check, and at document level the sentence split."""
    if isinstance(item, Rejection):
        return RecordPlan(item.record, error=item.reason)
    return RecordPlan(item, plan_document(Document(None, item["text"]), level, language_check, model))


def _row(record: dict, result: ScoredDocument | Refusal, model: Model) -> dict:
    if isinstance(result, Refusal):
        if result.reason_code == NOT_DUTCH:
            return _error_row(record, f"{result.reason}; not classified", result.language)
        return _error_row(record, result.reason)
    scores = {k: v for k, v in result.document.items() if k != "frame_scores"}
    return {**_passthrough(record), **scores, **result.language.fields(), **model.describe()}


def _passthrough(record: dict | None) -> dict:
    if not record:
        return {"id": None}
    out = {k: v for k, v in record.items() if k != "text"}
    out.setdefault("id", None)
    return out


def _error_row(record: dict | None, reason: str, language: str | None = None) -> dict:
    row = {**_passthrough(record), "error": reason}
    if language:
        row["language"] = language
    return row
