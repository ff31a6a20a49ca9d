"""`discourse annotations agreement [--from FILE]`: inter-coder agreement of an exported annotations file.

Or of the annotations in the store (`--queue`, `--filter`). Registered on the `annotations` group by
discourse/cli/annotations.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ._app import fail, store_session


def agreement_command(
    source: Optional[Path] = typer.Option(None, "--from", exists=True, dir_okay=False,
                                          help="An annotations export (.csv or .jsonl, as `GET /v1/annotations/export` "
                                               "writes); default: the annotations in the store."),
    queue: Optional[str] = typer.Option(None, "--queue", help="The store's annotations of this queue only."),
    filter_spec: str = typer.Option("", "--filter", help="The store's annotations of the sentences this filter selects."),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL of the store (default: the embedded SQLite)."),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON instead of a table."),
    show_disagreements: bool = typer.Option(False, "--disagreements",
                                            help="Print the items to adjudicate (JSON lines) instead of the report."),
    resamples: int = typer.Option(1000, min=0, help="Bootstrap resamples of the items (0: no intervals)."),
    seed: int = typer.Option(0, help="Seed of the bootstrap resampling."),
) -> None:
    """Cohen's kappa (two coders) and Krippendorff's alpha (nominal) per dimension and frame, with 95 % bootstrap
    intervals, and the number of items the coders disagree on."""
    from ..annotations.agreement import agreement_report, disagreements, format_report, read_annotation_file

    if source is not None:
        try:
            rows = read_annotation_file(source)
        except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError is a ValueError
            fail(f"--from {source}: {exc}")
    else:
        from ..store.annotations import annotation_rows

        try:
            with store_session(db) as session:
                rows = annotation_rows(session, filter_spec or None, queue=queue)
        except ValueError as exc:
            fail(str(exc))
    if show_disagreements:
        for item in disagreements(rows):
            typer.echo(json.dumps(item, ensure_ascii=False))
        return
    report = agreement_report(rows, resamples=resamples, seed=seed)
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else format_report(report))
