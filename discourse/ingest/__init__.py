"""Streaming ingest of news archives (JSONL, CSV/TSV, Parquet; gzip too) for `discourse score-archive`.

    paths = expand_paths(["archive/", "extra/*.csv.gz"])
    for item in read_records(paths, FieldMapping.parse("text=body")):
        if isinstance(item, Rejection): ...   # a bad record: reason_code, reason, path, position, excerpt
        else: ...                             # an IngestRecord: id, text, title, published, source, url, meta

Records come one at a time with constant memory; a bad record never stops the run. Language filtering is not
done here (a later stage does it).
"""

from .dates import parse_date
from .ids import content_id
from .mapping import ALTERNATIVES, FieldMapping
from .paths import SUPPORTED_SUFFIXES, estimate_records, expand_paths, file_format
from .readers import DEFAULT_MAX_CHARS, REASON_CODES, IngestRecord, build_record, read_records
from .records import Rejection

__all__ = [
    "ALTERNATIVES",
    "DEFAULT_MAX_CHARS",
    "FieldMapping",
    "IngestRecord",
    "REASON_CODES",
    "Rejection",
    "SUPPORTED_SUFFIXES",
    "build_record",
    "content_id",
    "estimate_records",
    "expand_paths",
    "file_format",
    "parse_date",
    "read_records",
]
