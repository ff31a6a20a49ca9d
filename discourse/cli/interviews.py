"""`discourse ingest-interviews`: transcripts scored sentence by sentence into the store, with their speakers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ._app import app, fail, skipped_counts


@app.command("ingest-interviews")
def ingest_interviews_command(
    directory: Path = typer.Argument(..., help="A folder of transcripts: .txt, .md or .docx, one interview each."),
    respondents: Optional[Path] = typer.Option(None, "--respondents", help="CSV of respondent attributes (id, gender, age, role, child_age, pregnancy_week, region, any extra column)."),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite store)."),
    source: str = typer.Option("interviews", "--source", help="Name of this interview collection in the store."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Framing model folder (default: the shipped one)."),
    backend: Optional[str] = typer.Option(None, "--backend", help="'onnx' (default) or 'torch'."),
) -> None:
    """Parse interview transcripts, score every sentence, and store them with speakers and their attributes."""
    from ..model.framing import FramingModel
    from ..interviews.ingest import ingest_interviews
    from ..model.loading import load_model

    try:
        loaded = load_model(model, backend)
        if not isinstance(loaded, FramingModel):
            fail("ingest-interviews needs a framing model, not a `discourse train` classifier")
        summary = ingest_interviews(directory, loaded, respondents, db_url=db, source=source,
                                    command=" ".join(sys.argv))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    skipped = skipped_counts(summary.skipped)
    typer.echo(f"run {summary.run_id}: {summary.scored} of {summary.transcripts} transcripts scored "
               f"({summary.respondent_segments} respondent sentences, {summary.segments} in all), skipped: "
               f"{skipped}; {summary.seconds:.1f}s", err=True)
    if summary.respondents_without_transcript:
        typer.echo("respondents in the CSV without a transcript: "
                   + ", ".join(summary.respondents_without_transcript), err=True)
