"""Reading news archives (JSONL, CSV/TSV, Parquet, gzip-compressed or not) one record at a time.

Archives hold thousands to millions of articles, so everything here streams: a line, a CSV row or a Parquet
batch of 1024 rows is in memory at a time, never a whole file. And a long run must not die on article 800,000:
every problem with one record becomes a `Rejection` (with a reason code, the file and position, and an excerpt)
yielded in the record's place, and reading goes on. A file that cannot be read at all (corrupt gzip or Parquet)
gives one `unreadable_file` rejection and the next file is read.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import gzip
import io
import itertools
import json
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .dates import parse_date
from .ids import content_id
from .mapping import MISSING, FieldMapping, to_jsonable
from .paths import PathNotAllowed, file_format, open_binary, open_raw, resolve_roots
from .records import DEFAULT_MAX_CHARS  # one limit for classify and archives
from .records import Rejection, check_record
from .records import max_chars as configured_max_chars

EXCERPT_CHARS = 300
PARQUET_BATCH_ROWS = 1024

#: Longest physical JSONL line (bytes) that is parsed at all. Far above any real article (a 5 MB text is still
#: parsed, so its rejection can name the record's id), but a file without newlines, or a multi-GB line, is cut
#: off here instead of being read into memory whole.
MAX_LINE_BYTES = 64 * 1024 * 1024

#: Reason codes, one per kind of problem, so a run's rejections can be counted and filtered by kind.
REASON_CODES = (
    "invalid_json",     # a JSONL line that is not JSON
    "not_an_object",    # JSON, but not an object ({...})
    "invalid_csv",      # a malformed CSV row: wrong number of fields, broken quoting
    "not_utf8",         # bytes that do not decode as UTF-8 (only that line/row is rejected)
    "missing_text",     # no text field (under any of the names tried), or its value is null
    "empty_text",       # text is empty or only whitespace
    "text_not_string",  # text is a number, list, object...
    "too_long",         # text (or the raw line) is over the limit
    "unreadable_file",  # the file cannot be opened or decoded at all (corrupt gzip/Parquet, permissions)
    "nul_character",    # a field holds a NUL character (U+0000), which PostgreSQL cannot store
    "path_not_allowed",  # reading is confined to data roots and the file is outside them, or not a regular file
    "record_error",     # a record that fails in a way no check above foresaw (the message says how)
)

#: Any UTF-16 surrogate: bytes decoded with surrogateescape (dc80-dcff) and lone surrogates that a JSON escape
#: ("\ud800") or an Arrow string can carry. Neither can be encoded as UTF-8, so such a record cannot be stored.
_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_CHARACTER = re.compile("[\ud800-\udfff\x00]")

#: How much of a CSV/TSV file (decompressed) is read to choose its encoding.
ENCODING_SAMPLE_BYTES = 4 * 1024 * 1024


@dataclass
class IngestRecord:
    id: str
    text: str
    title: str | None
    published: _dt.date | None
    source: str | None
    url: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    #: JSONL: line number. CSV/TSV: the line on which the row starts, counting the header as line 1 (what an editor
    #: shows; it differs from the row count only when a quoted field spans lines). Parquet: row number. All 1-based.
    position: int = 0
    #: True when `id` was made by `content_id` because the record had none.
    id_generated: bool = False


# ----------------------------------------------------------------------------------------------------------------
# One parsed object -> record or rejection (shared by every format)


def _excerpt(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        raw = raw[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    # A lone surrogate (a bad byte decoded with surrogateescape, a "\ud800" JSON escape) becomes U+FFFD, so
    # the excerpt can be printed and stored.
    return _SURROGATE.sub("\ufffd", raw[:EXCERPT_CHARS])


def _bad_character(obj: Any, where: str = "") -> tuple[str, str] | None:
    """(field, "surrogate" | "nul") for the first string, key or value at any depth, that holds a lone surrogate
    or a NUL character; None when there is none."""
    if isinstance(obj, str):
        found = _BAD_CHARACTER.search(obj)
        if found:
            return where or "value", "nul" if found.group() == "\x00" else "surrogate"
        return None
    if isinstance(obj, dict):
        for key, value in obj.items():
            name = f"{where}.{key}" if where else str(key)
            problem = _bad_character(key, name) if isinstance(key, str) else None
            problem = problem or _bad_character(value, name)
            if problem:
                return problem
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            problem = _bad_character(value, f"{where}[{index}]")
            if problem:
                return problem
    return None


def _optional_str(value: Any) -> str | None:
    if value is MISSING or value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value or None


def _reject(path: str, position: int, raw: str | bytes, code: str, reason: str,
            record_id: str | None = None) -> Rejection:
    return Rejection(path, position, record_id, code, reason, _excerpt(raw))


def build_record(obj: Any, mapping: FieldMapping, path: str, position: int, raw: str | bytes,
                 max_chars: int = DEFAULT_MAX_CHARS) -> IngestRecord | Rejection:
    """Validate one parsed input object and map its fields; a problem gives a Rejection, never an exception
    (one the checks did not foresee, such as a structure nested too deep to walk, becomes `record_error`)."""
    try:
        return _build_record(obj, mapping, path, position, raw, max_chars)
    except (RecursionError, MemoryError) as error:
        return _reject(path, position, raw, "record_error", f"record cannot be read: {type(error).__name__}")
    except Exception as error:  # noqa: BLE001 - one odd record must not end the file
        return _reject(path, position, raw, "record_error",
                       f"record cannot be read: {type(error).__name__}: {error}"[:2000])


def _build_record(obj: Any, mapping: FieldMapping, path: str, position: int, raw: str | bytes,
                  max_chars: int) -> IngestRecord | Rejection:
    if not isinstance(obj, dict):
        kind = type(obj).__name__
        hint = " (a JSON array file is not JSONL: one object per line is needed)" if isinstance(obj, list) else ""
        return _reject(path, position, raw, "not_an_object", f"expected a JSON object, got {kind}{hint}")

    bad = _bad_character(obj)
    if bad:
        field_name, kind = bad
        field_name = _SURROGATE.sub("\ufffd", field_name.replace("\x00", "\\0"))
        if kind == "nul":
            return _reject(path, position, raw, "nul_character",
                           f"field {field_name!r} contains a NUL character (U+0000), which cannot be stored")
        return _reject(path, position, raw, "not_utf8",
                       f"field {field_name!r} contains a lone surrogate (an unpaired \\ud800-\\udfff escape), "
                       f"which is not valid Unicode")

    values, used, meta = mapping.split(obj)
    given_id = _optional_str(values["id"])
    title = _optional_str(values["title"])
    source = _optional_str(values["source"])
    text = values["text"]

    if text is MISSING:
        present = ", ".join(map(str, list(obj)[:20])) or "none"
        reason = f"no text field (tried: {mapping.describe('text')}); fields present: {present}"
        return _reject(path, position, raw, "missing_text", reason, given_id)
    text_field = used["text"]
    if text is None:
        return _reject(path, position, raw, "missing_text", f"field {text_field!r} is null", given_id)
    if not isinstance(text, str):
        reason = f"field {text_field!r} must be a string, got {type(text).__name__}"
        return _reject(path, position, raw, "text_not_string", reason, given_id)
    text = text.strip()
    if not text:
        return _reject(path, position, raw, "empty_text", f"field {text_field!r} is empty", given_id)
    if len(text) > max_chars:
        reason = f"field {text_field!r} has {len(text):,} characters; the limit is {max_chars:,} (max_chars)"
        return _reject(path, position, raw, "too_long", reason, given_id or content_id(text, title, source))

    date_value = values["date"]
    published = parse_date(date_value) if date_value is not MISSING else None
    if published is None and date_value not in (MISSING, None, ""):
        # Keep an unreadable date in meta under its own name: the record stays, and the value is not lost.
        meta[used["date"]] = to_jsonable(date_value)

    return IngestRecord(
        id=given_id or content_id(text, title, source),
        text=text,
        title=title,
        published=published,
        source=source,
        url=_optional_str(values["url"]),
        meta=meta,
        path=path,
        position=position,
        id_generated=given_id is None,
    )


# ----------------------------------------------------------------------------------------------------------------
# JSONL


def _not_utf8(line: bytes, error: UnicodeDecodeError) -> str:
    return f"line is not valid UTF-8 (byte {line[error.start:error.start + 1]!r} at offset {error.start})"


def _lines(path: Path, max_chars: int, roots: list[Path] | None = None,
           not_utf8: Callable[[bytes, UnicodeDecodeError], str] = _not_utf8) -> Iterator[tuple[int, str] | Rejection]:
    """(line number, decoded line) for each line, blank ones included, or a Rejection for an overlong or non-UTF-8
    line (`not_utf8` words its reason). The one line loop of every line-based input: archives and classify's."""
    name = str(path)
    # Binary + per-line decoding: a bad byte costs one line, where a text-mode reader would fail the whole file.
    limit = max(MAX_LINE_BYTES, max_chars * 8)
    number = 0
    with open_binary(path, roots) as handle:
        while True:
            # readline with a size: an overlong line (or a file with no newlines) is cut off, never read whole.
            line = handle.readline(limit + 1)
            if not line:
                return
            number += 1
            if len(line) > limit and not line.endswith(b"\n"):
                rest = line
                while rest and not rest.endswith(b"\n"):  # skip the remainder in bounded chunks
                    rest = handle.readline(1 << 20)
                yield Rejection(name, number, None, "too_long", f"line is over {limit:,} bytes; not parsed",
                                _excerpt(line))
                continue
            try:
                decoded = line.decode("utf-8")
            except UnicodeDecodeError as error:
                yield Rejection(name, number, None, "not_utf8", not_utf8(line, error), _excerpt(line))
                continue
            # A byte-order mark from Windows tools: on the first line, and on any line of files concatenated
            # with `cat` (each part brought its own).
            yield number, decoded.lstrip("\ufeff")


def _read_jsonl(path: Path, mapping: FieldMapping, max_chars: int, roots: list[Path] | None
                ) -> Iterator[IngestRecord | Rejection]:
    return _line_records(path, mapping, max_chars, roots, json.loads)


def _read_txt(path: Path, mapping: FieldMapping, max_chars: int, roots: list[Path] | None
              ) -> Iterator[IngestRecord | Rejection]:
    """Plain text: every non-blank line is one record (its id made from its content)."""
    return _line_records(path, mapping, max_chars, roots, lambda line: {mapping.text: line.strip()})


def _line_records(path: Path, mapping: FieldMapping, max_chars: int, roots: list[Path] | None,
                  parse: Callable[[str], dict]) -> Iterator[IngestRecord | Rejection]:
    """One record per line of a line-based file, `parse` turning the decoded line into the record's fields (a
    line it cannot parse, for JSON, is rejected alone)."""
    name = str(path)
    for item in _lines(path, max_chars, roots):
        if isinstance(item, Rejection):
            yield item
            continue
        number, decoded = item
        if decoded.isspace() or not decoded:
            continue  # blank lines (a trailing newline, a separator) are not records
        try:
            obj = parse(decoded)
        except (ValueError, RecursionError) as error:
            yield Rejection(name, number, None, "invalid_json", f"line is not valid JSON: {error}",
                            _excerpt(decoded))
            continue
        yield build_record(obj, mapping, name, number, decoded, max_chars)


def read_jsonl(path: str | Path) -> Iterator[dict | Rejection]:
    """`discourse classify --input`: each line of a JSON-lines file as a checked record (every field passed
    through, no mapping) or a Rejection. Blank lines are rejections too, so that output line N always answers
    input line N."""
    limit = configured_max_chars()
    name = str(path)
    for item in _lines(Path(path), limit, not_utf8=_classify_not_utf8):
        if isinstance(item, Rejection):
            yield item
            continue
        number, line = item
        # Without its line ending: an error at the end of the line is reported at its column, not on a next line.
        line = line.removesuffix("\n").removesuffix("\r")
        if not line.strip():
            yield Rejection(name, number, None, "empty_text", "empty line")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejection(name, number, None, "invalid_json", f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        yield check_record(record, number, limit, name)


def _classify_not_utf8(line: bytes, error: UnicodeDecodeError) -> str:
    return f"line is not valid UTF-8 (byte {error.start}: {line[error.start:error.start + 1]!r})"


# ----------------------------------------------------------------------------------------------------------------
# CSV / TSV


def _raise_csv_field_limit(limit: int) -> None:
    # The csv module's default limit (128 KiB) would raise on a long article; raise it (process-wide; never lower
    # it) so an over-long text is read and rejected as too_long by the same check as every other format.
    if csv.field_size_limit() < limit:
        csv.field_size_limit(min(limit, sys.maxsize))


def _delimiter(fmt: str, first_line: str) -> str:
    if fmt == "tsv":
        return "\t"
    # Dutch spreadsheet exports often use ";" (the comma is the decimal separator); take whichever of , ; TAB the
    # header uses most.
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean_header(header: list[str]) -> list[str]:
    names, seen = [], {}
    for index, raw in enumerate(header):
        name = _excerpt(raw).strip() if _SURROGATE.search(raw) else raw.strip()
        name = name or f"column_{index + 1}"
        if name in seen:  # a repeated column name must not silently overwrite the earlier column
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def detect_encoding(sample: bytes) -> str:
    """"utf-8" or "cp1252" for the first bytes of a CSV/TSV file. Spreadsheet exports on Windows (Excel's "CSV"
    in a Dutch locale) are cp1252, where "é" is one byte that is never valid UTF-8. A file is read as cp1252 when
    its invalid UTF-8 bytes outnumber its valid multi-byte UTF-8 characters: a UTF-8 file with one stray bad
    byte stays UTF-8 (that row alone is rejected), a cp1252 file with accented words does not."""
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(sample, final=False)
    invalid = len(_SURROGATE.findall(text))
    if not invalid:
        return "utf-8"
    multibyte = len(text) - len(text.encode("ascii", "ignore")) - invalid  # C speed, not a loop per character
    return "utf-8" if multibyte >= invalid else "cp1252"


def _read_csv(path: Path, fmt: str, mapping: FieldMapping, max_chars: int, roots: list[Path] | None,
              encodings: dict[str, str] | None) -> Iterator[IngestRecord | Rejection]:
    name = str(path)
    _raise_csv_field_limit(max(MAX_LINE_BYTES, max_chars * 8))
    with open_binary(path, roots) as binary:
        encoding = detect_encoding(binary.read(ENCODING_SAMPLE_BYTES))
        binary.seek(0)
        if encoding != "utf-8" and encodings is not None:
            encodings[name] = encoding
        # surrogateescape: undecodable bytes become lone surrogates instead of an exception that would end the
        # file; rows containing them are then rejected one by one. utf-8-sig drops a byte-order mark.
        handle = io.TextIOWrapper(binary, encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                                  errors="surrogateescape", newline="")
        # Peek at the first line to choose the delimiter, then hand it back to the reader in front of the rest.
        first_line = handle.readline()
        delimiter = _delimiter(fmt, first_line)
        reader = csv.reader(itertools.chain([first_line], handle), delimiter=delimiter, strict=True)
        header: list[str] | None = None
        previous_line = 0
        while True:
            start = previous_line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                previous_line = reader.line_num
                code = "too_long" if "field limit" in str(error) else "invalid_csv"
                yield Rejection(name, start, None, code, f"malformed CSV row: {error}", "")
                continue
            previous_line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if header is None:
                header = _clean_header(row)
                continue
            raw = delimiter.join(row)
            if _SURROGATE.search(raw):
                yield Rejection(name, start, None, "not_utf8",
                                f"row is not valid {'UTF-8' if encoding == 'utf-8' else encoding}", _excerpt(raw))
                continue
            if len(row) != len(header):
                yield Rejection(name, start, None, "invalid_csv",
                                f"row has {len(row)} fields; the header has {len(header)}", _excerpt(raw))
                continue
            yield build_record(dict(zip(header, row)), mapping, name, start, raw, max_chars)


# ----------------------------------------------------------------------------------------------------------------
# Parquet


def _read_parquet(path: Path, mapping: FieldMapping, max_chars: int, roots: list[Path] | None
                  ) -> Iterator[IngestRecord | Rejection]:
    import pyarrow.parquet as pq  # imported here: JSONL/CSV users should not pay for loading Arrow

    name = str(path)
    position = 0
    with open_raw(path, roots) as raw, pq.ParquetFile(raw) as parquet:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for row in _parquet_rows(batch):
                position += 1
                if isinstance(row, UnicodeDecodeError):
                    yield Rejection(name, position, None, "not_utf8",
                                    f"a string column holds bytes that are not valid UTF-8: {row}", "")
                    continue
                yield build_record(row, mapping, name, position, _row_excerpt(row), max_chars)


def _parquet_rows(batch) -> Iterator[dict | UnicodeDecodeError]:
    """The batch's rows as dicts. Arrow does not check that a string column is valid UTF-8 when it is written
    without validation; such a row fails to convert, and it alone (not its batch of 1,024) becomes an error."""
    try:
        yield from batch.to_pylist()
        return
    except UnicodeDecodeError:
        pass
    for index in range(batch.num_rows):
        try:
            yield batch.slice(index, 1).to_pylist()[0]
        except UnicodeDecodeError as error:
            yield error


def _row_excerpt(row: dict) -> str:
    try:
        return json.dumps(to_jsonable(row), ensure_ascii=False)[:EXCERPT_CHARS * 2]
    except (TypeError, ValueError):
        return str(row)[:EXCERPT_CHARS * 2]


# ----------------------------------------------------------------------------------------------------------------
# Files -> records


#: What a corrupt or unreadable file raises while being read: gzip's and zlib's errors, Arrow's (subclasses of
#: ValueError/OSError), decoding errors in a text-mode gzip, a truncated stream (EOFError).
_FILE_ERRORS = (OSError, EOFError, zlib.error, ValueError, UnicodeError, gzip.BadGzipFile)


def _read_file(path: Path, mapping: FieldMapping, max_chars: int, roots: list[Path] | None,
               encodings: dict[str, str] | None) -> Iterator[IngestRecord | Rejection]:
    fmt = file_format(path)
    if fmt == "jsonl":
        return _read_jsonl(path, mapping, max_chars, roots)
    if fmt in ("csv", "tsv"):
        return _read_csv(path, fmt, mapping, max_chars, roots, encodings)
    if fmt == "parquet":
        return _read_parquet(path, mapping, max_chars, roots)
    if fmt == "txt":
        return _read_txt(path, mapping, max_chars, roots)
    raise ValueError(f"unsupported file type: {path}")


def read_records(paths: Iterable[str | Path], mapping: FieldMapping | None = None,
                 max_chars: int | None = None, roots: Iterable[str | Path] | None = None,
                 encodings: dict[str, str] | None = None) -> Iterator[IngestRecord | Rejection]:
    """Yield an IngestRecord or a Rejection for every record in `paths` (files, in the order given), streaming.
    `max_chars`: the longest accepted text (default: $DISCOURSE_MAX_CHARS, as for classify, else 100,000).
    `roots`: when given, only regular files inside these folders are read (symlinks resolved; see
    paths.open_raw); any other file becomes one `path_not_allowed` Rejection. `encodings`: filled with
    path -> encoding for every CSV/TSV file read as something other than UTF-8 (cp1252).

    Never raises for bad input: a bad record becomes a Rejection and reading continues; a file that cannot be read
    becomes one `unreadable_file` Rejection (after any records already read from it) and the next file is read.
    """
    mapping = mapping or FieldMapping()
    max_chars = max_chars if max_chars is not None else configured_max_chars()
    resolved_roots = resolve_roots(roots)
    for path in paths:
        path = Path(path)
        last_position = 0
        try:
            for item in _read_file(path, mapping, max_chars, resolved_roots, encodings):
                last_position = item.position
                yield item
        except PathNotAllowed as error:
            yield Rejection(str(path), 0, None, "path_not_allowed", f"not read: {error}", "")
        except _FILE_ERRORS as error:
            where = f" after position {last_position}" if last_position else ""
            yield Rejection(str(path), last_position + 1 if last_position else 0, None, "unreadable_file",
                            f"cannot read {path.name}{where}: {type(error).__name__}: {error}", "")


__all__ = ["DEFAULT_MAX_CHARS", "IngestRecord", "REASON_CODES", "Rejection", "build_record", "read_jsonl",
           "read_records"]
