"""Dashboard answers as CSV: one row per table row, nested values flattened into columns."""

from __future__ import annotations

import csv
import io

#: A text cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP "CSV
#: injection"): a source name or document title like "=HYPERLINK(...)" would run when the export is opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Which list of an answer is its table.
TABLE_OF = {"timeseries": "rows", "groups": "rows", "documents": "rows", "topics": "rows", "matrix": "cells",
            "topic_shares": "rows"}


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
    # \r\n (RFC 4180): with \n alone, a cell holding a bare \r is written unquoted and splits its row.
    writer = csv.DictWriter(out, fieldnames=columns or ["n"], lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: object) -> object:
    """A text cell that a spreadsheet would read as a formula gets a leading single quote, which makes it text;
    numbers stay numbers (a negative figure is not a formula)."""
    if isinstance(value, list):
        value = "|".join(map(str, value))
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
