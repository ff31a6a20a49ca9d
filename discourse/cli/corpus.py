"""`discourse corpus describe|agreement|overlap`: the annotated corpus the project authored."""

from __future__ import annotations

import json

import typer

from ._app import corpus_app, fail


@corpus_app.command("describe")
def corpus_describe() -> None:
    """Counts per split, genre x stance cell, frame and hard case."""
    from ..training.corpus import describe, load_units

    typer.echo(json.dumps(describe(load_units()), indent=2, ensure_ascii=False))


@corpus_app.command("agreement")
def corpus_agreement() -> None:
    """Cohen's kappa per layer between the first labels and the independent second pass."""
    from ..training.agreement import agreement_report

    typer.echo(json.dumps(agreement_report(), indent=2, ensure_ascii=False))


@corpus_app.command("overlap")
def corpus_overlap(
    batches: list[str] = typer.Argument(..., help="Training batch ids to check, e.g. ita01 ita02."),
    max_cosine: float = typer.Option(0.92, help="Flag above this cosine to a dev/test unit (base encoder)."),
    drop: bool = typer.Option(False, "--drop", help="Remove the flagged units from their batch files."),
) -> None:
    """Training units that paraphrase a dev or test unit (leakage check); --drop removes them."""
    from ..training.corpus import drop_units, held_out_overlap, load_units
    from ..encoder import EmbeddingCache, Encoder
    from ..settings import embedding_cache_path

    units, wanted = load_units(), set(batches)
    candidates = [u for u in units if u.batch in wanted]
    if not candidates:
        fail(f"no units in batches {batches}")
    held = [u for u in units if u.split in ("dev", "test")]
    encoder = Encoder.load(None, cache=EmbeddingCache(embedding_cache_path()))
    flagged = held_out_overlap(candidates, held, encoder.encode([u.text for u in candidates]),
                               encoder.encode([u.text for u in held]), max_cosine=max_cosine)
    for row in flagged:
        typer.echo(json.dumps(row, ensure_ascii=False))
    typer.echo(f"{len(flagged)} of {len(candidates)} units flagged", err=True)
    if drop:
        typer.echo(f"dropped {drop_units({row['id'] for row in flagged})} units", err=True)
