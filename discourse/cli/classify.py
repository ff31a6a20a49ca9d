"""`discourse classify` and `discourse evaluate`: a model applied to texts, one at a time or labelled in bulk."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from ._app import LANGUAGE_CHECK_HELP, app, fail, language_check_mode


@app.command()
def classify(
    text: Optional[str] = typer.Argument(None, help="A text to classify right away (instead of --input)."),
    input: Optional[Path] = typer.Option(None, "--input", "-i", help="JSON lines with 'id' and 'text'."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write JSON lines (default stdout)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model folder (default: DISCOURSE_MODEL or the shipped framing model)."),
    level: str = typer.Option("sentence", "--level", help="'sentence': the text is one unit; 'document': split into sentences and aggregate."),
    backend: Optional[str] = typer.Option(None, "--backend", help="'onnx' (int8, fast; default) or 'torch' (the reference); default DISCOURSE_BACKEND."),
    language_check: Optional[str] = typer.Option(None, "--language-check", help=LANGUAGE_CHECK_HELP),
) -> None:
    """Classify one text, or every line of a JSON-lines file (one output line per input line, same order)."""
    from ..pipeline.classify import classify_records
    from ..model.loading import load_model
    from ..ingest.readers import read_jsonl
    from ..ingest.records import check_record

    if level not in ("sentence", "document"):
        fail(f"--level must be 'sentence' or 'document', not {level!r}")
    if (text is None) == (input is None):
        fail("give either a TEXT argument or --input FILE")
    if input is not None and not input.is_file():
        fail(f"input file not found: {input}")
    language_check = language_check_mode(language_check)
    try:
        loaded = load_model(model, backend)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if text is not None:
        record = check_record({"text": text}, 1)
        row = next(classify_records(loaded, [record], level, language_check))
        typer.echo(_readable(row))
        return
    started, counts = time.perf_counter(), {"ok": 0, "error": 0}
    try:
        sink = open(output, "w", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    try:
        for row in classify_records(loaded, read_jsonl(input), level, language_check):
            counts["error" if "error" in row else "ok"] += 1
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
    finally:
        if output:
            sink.close()
    seconds = time.perf_counter() - started
    typer.echo(f"{counts['ok'] + counts['error']} lines: {counts['ok']} classified, {counts['error']} errors "
               f"({seconds:.1f}s)", err=True)


def _readable(row: dict) -> str:
    if "error" in row:
        return f"error: {row['error']}"
    lines = [f"label: {row['label']}   (relevance {row['relevance']:.2f})"] if "relevance" in row else \
        [f"label: {row['label']}"]
    for label, p in sorted(row["scores"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {label:<12} {p:5.2f} {'█' * round(p * 30)}")
    if row.get("frames"):
        lines.append("frames: " + ", ".join(f"{f['frame']} ({f['score']:.2f})" for f in row["frames"]))
    for side, items in (row.get("evidence") or {}).items():
        for item in items:
            lines.append(f"evidence {side} ({item['score']:.2f}): {item['sentence']}")
    if row.get("language_uncertain"):
        lines.append(f"language: uncertain (detected '{row['detected_language']}', confidence "
                     f"{row['language_confidence']:.2f}); classified as Dutch")
    lines.append(f"model: {row['model']} {row['model_version']}")
    return "\n".join(lines)


@app.command()
def evaluate(
    model: Path = typer.Option(..., "--model", help="Model folder."),
    data: Path = typer.Option(..., "--data"),
    text_column: str = typer.Option(..., "--text-column"),
    label_column: str = typer.Option(..., "--label-column"),
    json_output: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    backend: Optional[str] = typer.Option(None, "--backend", help="'onnx' or 'torch' (default DISCOURSE_BACKEND, else onnx)."),
) -> None:
    """Accuracy, macro-F1 and the confusion matrix of a model on labelled data."""
    from ..model.loading import load_model
    from ..training.metrics import format_confusion
    from ..training.classifier import evaluate_classifier

    try:
        report = evaluate_classifier(load_model(model, backend), data, text_column, label_column)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if json_output:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"n = {report['n']}  accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}")
    typer.echo(format_confusion(report))
