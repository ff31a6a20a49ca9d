"""`discourse card`: a model card's figures rewritten from the metrics files."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import app, fail


@app.command()
def card(model: Path = typer.Option(Path("models/framing-e5-small"), "--model")) -> None:
    """Rewrite the figures block of a model card from the metrics files the scripts wrote."""
    from ..training.card import update_card

    try:
        typer.echo(f"updated {update_card(model)}")
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
