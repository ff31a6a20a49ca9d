"""`discourse annotations agreement --from FILE`: inter-coder agreement of an exported annotations file.

The command function is registered on the `annotations` group by discourse/cli/annotations.py, which owns it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._app import fail


def agreement_command(
    source: Path = typer.Option(..., "--from", exists=True, dir_okay=False,
                                help="An annotations export (.csv or .jsonl, as `GET /v1/annotations/export` writes)."),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON instead of a table."),
    show_disagreements: bool = typer.Option(False, "--disagreements",
                                            help="Print the items to adjudicate (JSON lines) instead of the report."),
    resamples: int = typer.Option(1000, min=0, help="Bootstrap resamples of the items (0: no intervals)."),
    seed: int = typer.Option(0, help="Seed of the bootstrap resampling."),
) -> None:
    """Cohen's kappa (two coders) and Krippendorff's alpha (nominal) per dimension and frame, with 95 % bootstrap
    intervals, and the number of items the coders disagree on."""
    from ..annotations.agreement import agreement_report, disagreements, format_report, read_annotation_file

    try:
        rows = read_annotation_file(source)
    except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError is a ValueError
        fail(f"--from {source}: {exc}")
    if show_disagreements:
        for item in disagreements(rows):
            typer.echo(json.dumps(item, ensure_ascii=False))
        return
    report = agreement_report(rows, resamples=resamples, seed=seed)
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else format_report(report))
