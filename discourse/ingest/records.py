"""Reading input records one line at a time, so that one broken line never stops a batch.

Every line becomes either a record (a dict with a usable "text") or a `RecordError` that says what is wrong;
both keep their line number, so the output can keep the input's order, one line out for each line in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Iterator

from pydantic import AfterValidator

from ..settings import DEFAULT_MAX_CHARS, max_chars  # noqa: F401 (DEFAULT_MAX_CHARS: re-exported for the readers)


def utf8_text(value: str) -> str:
    """`value` unchanged if it can be written as UTF-8. JSON can spell a lone surrogate ("\\ud800") that no
    encoder, hash or tokenizer accepts; refused here, it is a clear error instead of a crash further on."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode text: a lone surrogate (\\u{ord(value[exc.start]):04x}) at "
                         f"character {exc.start} cannot be encoded as UTF-8") from None
    return value


#: A string that can be encoded as UTF-8: the type of every text field of the API's requests and query strings.
Utf8Str = Annotated[str, AfterValidator(utf8_text)]


@dataclass
class RecordError:
    line: int
    reason: str
    record: dict | None = None  # the parsed object, when there was one (its fields pass through)


def check_record(record: object, line: int, limit: int | None = None) -> dict | RecordError:
    """Validate one parsed record: a JSON object with a non-empty string "text" within the length limit."""
    limit = limit or max_chars()
    if not isinstance(record, dict):
        return RecordError(line, f"line is not a JSON object (got {type(record).__name__})")
    if "text" not in record:
        return RecordError(line, 'missing field "text"', record)
    text = record["text"]
    if not isinstance(text, str):
        return RecordError(line, f'field "text" must be a string, got {type(text).__name__}', record)
    if not text.strip():
        return RecordError(line, 'field "text" is empty or only white space', record)
    if len(text) > limit:
        return RecordError(line, f'field "text" has {len(text):,} characters; the limit is {limit:,} '
                                 f"(DISCOURSE_MAX_CHARS)", record)
    return record


def read_jsonl(path: str | Path) -> Iterator[dict | RecordError]:
    """Yield each line of a JSON-lines file as a checked record or an error. Blank lines are errors too, so that
    output line N always answers input line N."""
    limit = max_chars()
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield RecordError(number, f"line is not valid UTF-8 (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})")
                continue
            if not line.strip():
                yield RecordError(number, "empty line")
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RecordError(number, f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            yield check_record(record, number, limit)
