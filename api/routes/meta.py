"""Health, readiness and what the service has loaded."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from discourse.codebook import load_codebook

router = APIRouter(tags=["service"])


@router.get("/health")
async def health() -> dict:
    """The process is alive (answers even while the model is busy)."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """The model is loaded (a database check joins here when the store exists)."""
    model = getattr(request.app.state, "model", None)
    ok = model is not None
    return JSONResponse({"status": "ready" if ok else "not ready", "model": ok}, status_code=200 if ok else 503)


@router.get("/models")
async def models(request: Request) -> dict:
    """The loaded model, its card's metrics and the codebook's labels with definitions."""
    model = request.app.state.model
    folder = request.app.state.model_dir
    metrics_path = folder / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    summary = {split: {task: figures["macro_f1"] for task, figures in metrics[split].items()
                       if isinstance(figures, dict) and "macro_f1" in figures}
               for split in ("dev", "test") if split in metrics}
    codebook = load_codebook()
    return {"models": [{**model.describe(), "folder": str(folder), "metrics": summary,
                        "command": metrics.get("command")}],
            "codebook": {"version": codebook.version,
                         "stances": [{"label": s, **codebook.definitions[s]} for s in codebook.stances],
                         "frames": [{"label": f, "side": codebook.frame_side(f), **codebook.definitions[f]}
                                    for f in codebook.frames]}}
