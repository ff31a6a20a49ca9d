"""Classifying records with a framing model, at sentence or document level.

This is the one place that turns input records into output rows; the CLI and the HTTP service both call it.
Records are processed in chunks so the encoder sees full batches, and every record gets exactly one output row,
in input order — an error row when the record cannot be processed.
"""

from __future__ import annotations

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
    rows: list[dict | None] = [None] * len(chunk)
    units: list[str] = []  # texts the encoder will see
    # (row, sentences, first unit, n units, language verdict)
    plans: list[tuple[int, list[Sentence] | None, int, int, LanguageVerdict]] = []
    for i, item in enumerate(chunk):
        if isinstance(item, RecordError):
            rows[i] = _error_row(item.record, item.reason)
            continue
        text = item["text"]
        language = check_language(text, language_check)
        if language.refuse:
            rows[i] = _error_row(item, f"{language.reason()}; not classified", language.guess.code)
            continue
        if level == "document" and not getattr(model, "pools_documents", False):
            sentences = split_sentences(text)
            plans.append((i, sentences, len(units), len(sentences), language))
            units.extend(s.text for s in sentences)
        else:  # a sentence, or a whole document for a model that pools its sentences itself (trained so)
            plans.append((i, None, len(units), 1, language))
            units.append(text.strip())
    predictions = model.predict(units) if units else []
    meta = model.describe()
    for i, sentences, first, count, language in plans:
        record = chunk[i]
        if sentences is None:
            result = predictions[first]
        else:
            result = model.aggregate(sentences, predictions[first:first + count])
        result = {k: v for k, v in result.items() if k != "frame_scores"}
        rows[i] = {**_passthrough(record), **result, **language.fields(), **meta}
    return rows  # type: ignore[return-value]


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
