"""POST /v1/compare: two filters of scored segments compared, as JSON or as the self-contained HTML
report `discourse compare --html` writes. The same function as the CLI (discourse.compare.run.compare).

A comparison takes seconds of every core (the bootstrap; with echo, the encoder on every sentence of both
sides), so one runs at a time, in a thread at a lower CPU priority: another waits up to
DISCOURSE_API_COMPARE_WAIT_S for its turn, then gets 429 with Retry-After. Echo needs the API key (unless
DISCOURSE_API_ECHO_REQUIRES_KEY=false); its sentences are encoded in the batcher's long lane, beside or between
classify turns, and their embeddings kept in the on-disk embedding cache."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from discourse.compare import build_report, report_json
from discourse.compare.run import compare
from discourse.store.selection import SegmentFilter

from ..batcher import Busy, ModelThreadEncoder
from ..deps import (BatcherDep, CompareTurnDep, EchoCacheDep, SessionDep, SettingsDep, key_is_valid,
                    read_access)
from ..schemas import Utf8Str

router = APIRouter(tags=["compare"], dependencies=[Depends(read_access)])

FILTER_HELP = ("Comma-separated conditions: genre, source, corpus, date, relevance, stance, frame, role, topic (with "
               "topic_model) or any speaker attribute, e.g. 'genre=interview,parent=mother,age>=30'; the "
               "dashboard's spellings too (speaker=parent:mother, date_from, date_to, min_relevance).")


class CompareRequest(BaseModel):
    model_config = {"json_schema_extra": {"examples": [
        {"a": "genre=interview", "b": "genre=policy", "label_a": "Ouders", "label_b": "Instellingen"}]}}

    a: Utf8Str = Field(..., min_length=1, max_length=1000, description=FILTER_HELP)
    b: Utf8Str = Field(..., min_length=1, max_length=1000, description=FILTER_HELP)
    label_a: Utf8Str = Field("A", max_length=100)
    label_b: Utf8Str = Field("B", max_length=100)
    topic_model: Utf8Str | None = Field(None, max_length=200, description="A fitted topic model (topic prevalence).")
    echo: bool = Field(False, description="Nearest B sentence of every A sentence; encodes both sides (slow on "
                                          "large selections: about 100 new sentences/s). Needs X-API-Key unless "
                                          "the server opens it (DISCOURSE_API_ECHO_REQUIRES_KEY=false).")
    n_resamples: int = Field(2000, ge=100, le=10000)
    min_freq: int = Field(5, ge=1, le=1000)
    lemmas: bool = False
    format: Literal["json", "html"] = "json"


@router.post("/compare", response_model=None)
async def compare_endpoint(body: CompareRequest, session: SessionDep, settings: SettingsDep, batcher: BatcherDep,
                           echo_cache: EchoCacheDep, turn: CompareTurnDep,
                           x_api_key: Annotated[str | None, Header()] = None) -> Response:
    """Stance and frame shares with cluster-bootstrap 95 % intervals and a test of the difference, topic
    prevalence, keyness (G², log ratio), adoption of discourse terms, and (with echo) embedding echo. One
    comparison runs at a time: 429 with Retry-After when the server stays busy."""
    try:
        filter_a, filter_b = SegmentFilter.parse(body.a), SegmentFilter.parse(body.b)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if body.echo and settings.echo_requires_key and not key_is_valid(settings, x_api_key):
        raise HTTPException(401, "echo encodes every sentence of both selections and needs a valid X-API-Key "
                                 "header (setting DISCOURSE_API_ECHO_REQUIRES_KEY)")
    try:
        encoder = ModelThreadEncoder(batcher, echo_cache) if body.echo else None
        # The report is rendered in the analysis thread too: an echo report of ~900 sentence pairs takes tens of
        # milliseconds to build, which on the event loop would delay every other answer, /v1/health too.
        rendered = await turn.run(_compare_and_render, session, filter_a, filter_b, encoder, body)
    except Busy as busy:
        raise HTTPException(429, f"another comparison is running; try again in {busy.retry_after_s} s",
                            headers={"Retry-After": str(busy.retry_after_s)}) from None
    except ValueError as exc:  # a filter that selects nothing, an unknown topic model, a bad attribute operator
        raise HTTPException(422, str(exc)) from None
    if body.format == "html":
        return HTMLResponse(rendered)
    return Response(rendered, media_type="application/json")


def _compare_and_render(session, filter_a: SegmentFilter, filter_b: SegmentFilter, encoder,
                        body: CompareRequest) -> str:
    result = compare(session, filter_a, filter_b, encoder=encoder, topic_model=body.topic_model,
                     n_resamples=body.n_resamples, min_freq=body.min_freq, lemmas=body.lemmas,
                     labels=(body.label_a, body.label_b))
    return build_report(result) if body.format == "html" else report_json(result)
