"""Dashboard answers as CSV: one row per table row, nested values flattened into columns."""

from __future__ import annotations

import csv
import io

#: Which list of an answer is its table.
TABLE_OF = {"timeseries": "rows", "groups": "rows", "documents": "rows", "topics": "rows", "matrix": "cells"}


def to_csv(question: str, answer: dict) -> str:
    """The answer's table (the summary: one row) as CSV text with a header; lists are joined with '|'."""
    if question == "summary":
        rows = [{"model_version": answer["model_version"], "n": answer["n"], "documents": answer["documents"],
                 "undated": answer["undated"],
                 **{f"n_{k}": v for k, v in answer["counts"].items()},
                 **{f"share_{k}": v for k, v in answer["shares"].items()},
                 **{f"mean_{k}": v for k, v in answer["mean_scores"].items()}}]
    else:
        rows = answer[TABLE_OF[question]]
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or ["n"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "|".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue()
