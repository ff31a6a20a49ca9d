"""Classifying records with a framing model, at sentence or document level.

This is the one place that turns input records into output rows; the CLI and the HTTP service both call it.
Records are processed in chunks so the encoder sees full batches, and every record gets exactly one output row,
in input order — an error row when the record cannot be processed.
"""

from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator, Literal

from .loading import Model
from .language import detect_language
from .records import RecordError
from .segment import Sentence, split_sentences

Level = Literal["sentence", "document"]
CHUNK = 64  # records per encoder round; big enough to batch well, small enough to stream


def classify_records(model: Model, records: Iterable[dict | RecordError], level: Level = "sentence",
                     ) -> Iterator[dict]:
    """Yield one output row per input record, in order. Input fields pass through; "text" is not echoed."""
    if level not in ("sentence", "document"):
        raise ValueError(f"level must be 'sentence' or 'document', got {level!r}")
    iterator = iter(records)
    while chunk := list(islice(iterator, CHUNK)):
        yield from _classify_chunk(model, chunk, level)


def classify_texts(model: Model, texts: list[str], level: Level = "sentence") -> list[dict]:
    return list(classify_records(model, ({"text": t} for t in texts), level))


def _classify_chunk(model: Model, chunk: list[dict | RecordError], level: Level) -> list[dict]:
    rows: list[dict | None] = [None] * len(chunk)
    units: list[str] = []  # texts the encoder will see
    plans: list[tuple[int, list[Sentence] | None, int, int]] = []  # (row, sentences, first unit, n units)
    for i, item in enumerate(chunk):
        if isinstance(item, RecordError):
            rows[i] = _error_row(item.record, item.reason)
            continue
        text = item["text"]
        language = detect_language(text)
        if not language.is_dutch:
            rows[i] = _error_row(item, f"text is not Dutch (detected '{language.code}', "
                                       f"confidence {language.confidence:.2f}); not classified", language.code)
            continue
        if level == "document":
            sentences = split_sentences(text)
            plans.append((i, sentences, len(units), len(sentences)))
            units.extend(s.text for s in sentences)
        else:
            plans.append((i, None, len(units), 1))
            units.append(text.strip())
    predictions = model.predict(units) if units else []
    meta = model.describe()
    for i, sentences, first, count in plans:
        record = chunk[i]
        if sentences is None:
            result = predictions[first]
        else:
            result = model.aggregate(sentences, predictions[first:first + count])
        result = {k: v for k, v in result.items() if k != "frame_scores"}
        rows[i] = {**_passthrough(record), **result, "language": "nl", **meta}
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
