"""Health, readiness and what the service has loaded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from discourse.codebook import load_codebook
from discourse.model.loading import load_model
from discourse.settings import data_folder, model_dir

from ..deps import (BatcherDep, LoadedBatcherDep, LoadedModelDep, LoadedStoreDep, ModelDep, ModelDirDep, ModelSwapDep,
                    SettingsDep, require_api_key)
from ..schemas import Utf8Str

router = APIRouter(tags=["service"])


@router.get("/health")
async def health() -> dict:
    """The process is alive (answers even while the model is busy)."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(model: LoadedModelDep, batcher: LoadedBatcherDep, store: LoadedStoreDep) -> JSONResponse:
    """The model is loaded and the store's database answers."""
    database = await asyncio.to_thread(_database_answers, store)
    ok = model is not None and database
    body = {"status": "ready" if ok else "not ready", "model": model is not None, "database": database}
    if batcher is not None:  # how well micro-batching is working: records per model call
        body["batcher"] = {"batches_run": batcher.batches_run, "records_run": batcher.records_run}
    return JSONResponse(body, status_code=200 if ok else 503)


def _database_answers(engine) -> bool:
    if engine is None:
        return False
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


@router.get("/models")
async def models(model: ModelDep, folder: ModelDirDep) -> dict:
    """The loaded model, its card's metrics and the codebook's labels with definitions."""
    metrics_path = folder / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    real_test_path = folder / "real_test.json"
    if real_test_path.is_file():  # real text first: the frozen real test split leads, the authored splits follow
        metrics = {"real_test": json.loads(real_test_path.read_text(encoding="utf-8")), **metrics}
    summary = {split: {task: figures["macro_f1"] for task, figures in metrics[split].items()
                       if isinstance(figures, dict) and "macro_f1" in figures}
               for split in ("real_test", "real_dev", "dev", "test") if split in metrics}
    codebook = load_codebook()
    return {"models": [{**model.describe(), "folder": str(folder), "metrics": summary,
                        "command": metrics.get("command")}],
            "codebook": {"version": codebook.version,
                         "stances": [{"label": s, **codebook.definitions[s]} for s in codebook.stances],
                         "frames": [{"label": f, "side": codebook.frame_side(f), **codebook.definitions[f]}
                                    for f in codebook.frames]}}


class ReloadRequest(BaseModel):
    folder: Utf8Str | None = Field(None, max_length=1000, description="Serve this model folder instead: one under "
                                   "<data folder>/models (where `train --from-annotations` writes), or the "
                                   "configured model folder. Default: the folder served now, loaded again.")


@router.post("/models/reload", dependencies=[Depends(require_api_key)])
async def reload_model(settings: SettingsDep, batcher: BatcherDep, folder: ModelDirDep, serve: ModelSwapDep,
                       body: ReloadRequest | None = None) -> dict:
    """Admin (X-API-Key): load the model folder again — e.g. after a new model version was put there — or another
    model folder (`folder`), and serve it from the next batch on, without a restart. If loading fails, the running
    model stays."""
    if body is not None and body.folder is not None:
        folder = _servable_folder(body.folder, settings)
    try:
        model = await batcher.replace_model(lambda: load_model(folder, backend=settings.backend))
    except (OSError, ValueError) as exc:
        raise HTTPException(500, f"reloading {folder} failed ({exc}); the previous model is still serving") from None
    serve(model, folder)
    return {"reloaded": True, "folder": str(folder), **model.describe()}


def _servable_folder(raw: str, settings) -> Path:
    """A folder the service may load: inside <data folder>/models, or the configured model folder."""
    folder = Path(raw).expanduser().resolve()
    configured = Path(settings.model_dir) if settings.model_dir else model_dir()
    allowed = [(data_folder() / "models").resolve(), configured.resolve()]
    if not any(folder.is_relative_to(root) for root in allowed):
        raise HTTPException(403, f"{raw!r} is not a model folder this service may load (allowed: the configured "
                                 f"model folder, and folders under {allowed[0]})")
    if not (folder / "config.json").is_file():
        raise HTTPException(404, f"{raw!r} holds no model (no config.json)")
    return folder
