"""The coders' annotations as CSV or JSONL, one row per (item, coder), with the adjudicated code beside them.

In CSV a list (frames, free codes) is its entries joined by "|", the separator of the filter syntax; an empty
cell is no value (null), "true"/"false" a relevance. JSONL keeps the lists and nulls as they are.
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy.orm import Session

from discourse.store.annotations import annotation_rows
from discourse.store.filters import SegmentFilter

FORMATS = ("csv", "jsonl")
COLUMNS = ("item_id", "document_id", "start", "end", "text", "coder", "relevant", "stance", "frames", "codes", "memo",
           "origin", "updated_at", "queue", "adjudicator", "adjudicated_relevant", "adjudicated_stance",
           "adjudicated_frames")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def export_annotations(session: Session, fmt: str, *, queue: str | None = None,
                       segment_filter: SegmentFilter | str | None = None) -> str:
    """Every annotation (of `queue`, of the sentences `segment_filter` selects) in `fmt`: csv or jsonl."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    rows = annotation_rows(session, segment_filter, queue=queue)
    return to_csv(rows) if fmt == "csv" else to_jsonl(rows)


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps({c: row.get(c) for c in COLUMNS}, ensure_ascii=False) + "\n" for row in rows)


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in COLUMNS])
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "|".join(map(str, value))
    return str(value)
