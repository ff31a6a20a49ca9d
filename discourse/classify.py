"""Classifying records with a framing model, at sentence or document level.

This is the one place that turns input records into output rows; the CLI and the HTTP service both call it (the
service through `plan_record` and `RecordPlan.finish`, encoding the units in between in turns of its own).
Records are processed in chunks so the encoder sees full batches, and every record gets exactly one output row,
in input order — an error row when the record cannot be processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Iterable, Iterator, Literal

from .loading import Model
from .language import LanguageCheckMode, LanguageVerdict, check_language, require_mode
from .records import RecordError
from .segment import Sentence, split_sentences

Level = Literal["sentence", "document"]
CHUNK = 64  # records per encoder round; big enough to batch well, small enough to stream


def classify_records(model: Model, records: Iterable[dict | RecordError], level: Level = "sentence",
                     language_check: LanguageCheckMode = "strict") -> Iterator[dict]:
    """Yield one output row per input record, in order. Input fields pass through; "text" is not echoed.
    `language_check` (discourse.language.LANGUAGE_CHECKS): which texts are refused as not Dutch."""
    if level not in ("sentence", "document"):
        raise ValueError(f"level must be 'sentence' or 'document', got {level!r}")
    require_mode(language_check)
    iterator = iter(records)
    while chunk := list(islice(iterator, CHUNK)):
        yield from _classify_chunk(model, chunk, level, language_check)


def classify_texts(model: Model, texts: list[str], level: Level = "sentence",
                   language_check: LanguageCheckMode = "strict") -> list[dict]:
    return list(classify_records(model, ({"text": t} for t in texts), level, language_check))


def _classify_chunk(model: Model, chunk: list[dict | RecordError], level: Level,
                    language_check: LanguageCheckMode) -> list[dict]:
    plans = [plan_record(item, level, language_check, model) for item in chunk]
    units = [unit for plan in plans for unit in plan.units]
    predictions = model.predict(units) if units else []
    rows, first = [], 0
    for plan in plans:
        rows.append(plan.finish(model, predictions[first:first + len(plan.units)]))
        first += len(plan.units)
    return rows


@dataclass
class RecordPlan:
    """One record on its way through the model: the texts the encoder must see (`units`: the text itself, or a
    document's sentences) and how its row is made from their predictions. A record that needs no model (broken, or
    refused as not Dutch) has no units and its row already.

    The predictions may come in any number of model calls: a caller that cuts a long document's units into turns
    (the service's micro-batcher) gets the row it would have got from one call, because each text's prediction is a
    function of that text alone."""
    record: dict | None
    units: list[str] = field(default_factory=list)
    sentences: list[Sentence] | None = None  # document level
    language: LanguageVerdict | None = None
    row: dict | None = None  # the row of a record that needs no model

    def finish(self, model: Model, predictions: list[dict]) -> dict:
        """The output row, from one prediction per unit, in order."""
        if self.row is not None:
            return self.row
        if self.sentences is None:
            result = predictions[0]
        else:
            result = model.aggregate(self.sentences, predictions)
        result = {k: v for k, v in result.items() if k != "frame_scores"}
        return {**_passthrough(self.record), **result, **self.language.fields(), **model.describe()}


def plan_record(item: dict | RecordError, level: Level, language_check: LanguageCheckMode,
                model: Model | None = None) -> RecordPlan:
    """Everything before the model: the language check, and at document level the sentence split."""
    if isinstance(item, RecordError):
        return RecordPlan(item.record, row=_error_row(item.record, item.reason))
    text = item["text"]
    language = check_language(text, language_check)
    if language.refuse:
        return RecordPlan(item, row=_error_row(item, f"{language.reason()}; not classified", language.guess.code))
    if level == "document" and not getattr(model, "pools_documents", False):
        sentences = split_sentences(text)
        if not sentences:
            return RecordPlan(item, row=_error_row(item, "no sentence found in the text"))
        return RecordPlan(item, [s.text for s in sentences], sentences, language)
    # a sentence, or a whole document for a model that pools its sentences itself (trained so)
    return RecordPlan(item, [text.strip()], None, language)


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
