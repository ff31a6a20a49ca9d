"""What every reader shares: the one `Rejection` type (a bad record: where it was, a reason code, a reason for
people), the classify input's record check, and the text checks of the API's requests.

A classify input line becomes either a record (a dict with a usable "text") or a `Rejection` that says what is
wrong; both keep their line number, so the output can keep the input's order, one line out for each line in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

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
class Rejection:
    """A record that is not scored or classified, in its input's place: the file and position (1-based line or row;
    0 for a whole file), its id if it had one, a reason code (readers.REASON_CODES, or the scorer's), a reason for
    people and an excerpt of the raw record."""
    path: str
    position: int
    record_id: str | None
    reason_code: str
    reason: str
    excerpt: str | None = None  # None: no raw record to show (a whole transcript)
    record: dict | None = None  # the parsed object, when there was one: classify passes its fields through

    def as_store_row(self) -> dict:
        """ScoreWriter.add_rejected's keyword arguments. The path is made absolute, so a rerun from another
        folder finds the rejections it already recorded (one row per input, position and reason)."""
        return {"reason_code": self.reason_code, "reason": self.reason,
                "source_path": os.path.abspath(self.path) if self.path else self.path,
                "line_or_row": self.position, "record_id": self.record_id, "raw": self.excerpt}


def check_record(record: object, line: int, limit: int | None = None, path: str = "") -> dict | Rejection:
    """Validate one parsed classify record: a JSON object with a non-empty string "text" within the length limit."""
    limit = limit or max_chars()

    def reject(code: str, reason: str) -> Rejection:
        return Rejection(path, line, None, code, reason, record=record if isinstance(record, dict) else None)

    if not isinstance(record, dict):
        return reject("not_an_object", f"line is not a JSON object (got {type(record).__name__})")
    if "text" not in record:
        return reject("missing_text", 'missing field "text"')
    text = record["text"]
    if not isinstance(text, str):
        return reject("text_not_string", f'field "text" must be a string, got {type(text).__name__}')
    if not text.strip():
        return reject("empty_text", 'field "text" is empty or only white space')
    if len(text) > limit:
        return reject("too_long", f'field "text" has {len(text):,} characters; the limit is {limit:,} '
                                  f"(DISCOURSE_MAX_CHARS)")
    return record
