"""`discourse annotations queue|export|agreement`: coding queues drawn from the store, the coders' annotations, and
how far the coders agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from ._app import annotations_app, fail, store_session
from .agreement import agreement_command

annotations_app.command("agreement")(agreement_command)


@annotations_app.command("queue")
def annotations_queue(
    name: str = typer.Option(..., "--name", help="The queue's name (coders ask for their next sentence by it)."),
    coders: List[str] = typer.Option(..., "--coder", help="A coder's name; repeat for several coders."),
    size: int = typer.Option(..., "--size", help="How many sentences to draw."),
    strategy: str = typer.Option("random", "--strategy", help="random, uncertain (smallest stance margin first) or "
                                 "disagreement (two model versions label differently)."),
    filter_spec: str = typer.Option("", "--filter", help="Sentences to draw from, e.g. 'genre=interview'."),
    model_version: Optional[str] = typer.Option(None, "--model-version", help="Default: the latest in the store."),
    other_model_version: Optional[str] = typer.Option(None, "--other-model-version",
                                                      help="For --strategy disagreement."),
    overlap: float = typer.Option(0.0, "--overlap", help="Share of the sentences every coder codes (double coding)."),
    stratify: Optional[str] = typer.Option(None, "--stratify", help="Equal shares per source or genre."),
    seed: int = typer.Option(0, "--seed"),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite store)."),
) -> None:
    """Draw a coding queue from the scored sentences in the store and give its sentences to the coders."""
    from ..annotations.queue import QueueSpec, create_queue

    try:
        spec = QueueSpec(name=name, coders=tuple(coders), size=size, strategy=strategy, filter=filter_spec or None,
                         model_version=model_version, other_model_version=other_model_version, overlap=overlap,
                         stratify=stratify, seed=seed)
        with store_session(db) as session:
            queue = create_queue(session, spec)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(json.dumps(queue, ensure_ascii=False))


@annotations_app.command("export")
def annotations_export(
    fmt: str = typer.Option("csv", "--format", help="csv or jsonl."),
    queue: Optional[str] = typer.Option(None, "--queue", help="Only the annotations of this queue."),
    filter_spec: str = typer.Option("", "--filter", help="Only sentences this filter selects."),
    out: Optional[Path] = typer.Option(None, "--out", help="File to write (default: standard output)."),
    db: Optional[str] = typer.Option(None, "--db"),
) -> None:
    """Every annotation, one row per sentence and coder, with the adjudicated code beside it."""
    from ..annotations.export import export_annotations

    try:
        with store_session(db) as session:
            text = export_annotations(session, fmt, queue=queue, segment_filter=filter_spec or None)
    except ValueError as exc:
        fail(str(exc))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"{out}: {max(text.count(chr(10)) - (fmt == 'csv'), 0)} annotations", err=True)
