"""POST /v1/compare: two filters of scored segments compared (issue D), as JSON or as the self-contained HTML
report `discourse compare --html` writes. The same function as the CLI (discourse.compare.run.compare)."""

from __future__ import annotations

import asyncio
import json
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from discourse.compare import build_report, report_json
from discourse.compare.run import compare
from discourse.store.selection import SegmentFilter

from ..deps import SessionDep

router = APIRouter(tags=["compare"])

FILTER_HELP = ("Comma-separated conditions: genre, source, date, relevance, stance, frame, role, topic (with "
               "topic_model) or any speaker attribute, e.g. 'genre=interview,parent=mother'.")


class CompareRequest(BaseModel):
    model_config = {"json_schema_extra": {"examples": [
        {"a": "genre=interview", "b": "genre=policy", "label_a": "Ouders", "label_b": "Instellingen"}]}}

    a: str = Field(..., min_length=1, max_length=1000, description=FILTER_HELP)
    b: str = Field(..., min_length=1, max_length=1000, description=FILTER_HELP)
    label_a: str = Field("A", max_length=100)
    label_b: str = Field("B", max_length=100)
    topic_model: str | None = Field(None, max_length=200, description="A fitted topic model (topic prevalence).")
    echo: bool = Field(False, description="Nearest B sentence of every A sentence; encodes both sides (slow on "
                                          "large selections: about 100 new sentences/s).")
    n_resamples: int = Field(2000, ge=100, le=10000)
    min_freq: int = Field(5, ge=1, le=1000)
    lemmas: bool = False
    format: Literal["json", "html"] = "json"


@router.post("/compare", response_model=None)
async def compare_endpoint(body: CompareRequest, session: SessionDep, request: Request) -> JSONResponse | HTMLResponse:
    """Stance and frame shares with cluster-bootstrap 95 % intervals and a test of the difference, topic
    prevalence, keyness (G², log ratio), adoption of discourse terms, and (with echo) embedding echo."""
    try:
        filter_a, filter_b = SegmentFilter.parse(body.a), SegmentFilter.parse(body.b)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    encoder = request.app.state.model.encoder if body.echo else None
    try:
        result = await asyncio.to_thread(
            compare, session, filter_a, filter_b, encoder=encoder, topic_model=body.topic_model,
            n_resamples=body.n_resamples, min_freq=body.min_freq, lemmas=body.lemmas,
            labels=(body.label_a, body.label_b))
    except ValueError as exc:  # a filter that selects nothing, an unknown topic model, a bad attribute operator
        raise HTTPException(422, str(exc)) from None
    if body.format == "html":
        return HTMLResponse(build_report(result))
    return JSONResponse(json.loads(report_json(result)))
