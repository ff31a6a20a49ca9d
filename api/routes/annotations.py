"""Coding sentences by hand under /v1/annotations: queues for coders, the next sentence to code, saving codes
(idempotent per coder and item), undo, adjudication, and the export of every annotation. A coder is the owner of
an API key (setting DISCOURSE_API_CODERS); the logic is in discourse.annotations and discourse.store.annotations."""

from __future__ import annotations

from typing import Callable, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from discourse.annotations.agreement import RESAMPLES, agreement_report, disagreements
from discourse.annotations.export import FORMATS, MEDIA_TYPES, export_annotations
from discourse.annotations.queue import MAX_SIZE, QueueExists, QueueSpec, create_queue, next_item, undo
from discourse.pipeline.jobs import TRAIN_FROM_ANNOTATIONS
from discourse.store.annotations import (NAME_CHARS, NotFound, annotation_rows, coder_queues, save_adjudication,
                                         save_annotation)

from ..deps import CoderDep, JobsDep, ModelDirDep, SessionDep, SettingsDep, WriteSessionDep, read_access
from ..schemas import Utf8Str

router = APIRouter(prefix="/annotations", tags=["annotations"])

QUEUE = Query(min_length=1, max_length=NAME_CHARS, description="The queue's name.")
ID = Field(ge=1, le=2**31 - 1)  # ids beyond 2^31 would overflow the database's integer


class QueueRequest(BaseModel):
    model_config = {"extra": "forbid", "json_schema_extra": {"examples": [
        {"name": "pilot", "filter": "genre=interview", "strategy": "uncertain", "size": 100,
         "coders": ["anna", "bram"], "overlap": 0.2, "stratify": "source", "seed": 1}]}}

    name: Utf8Str = Field(min_length=1, max_length=NAME_CHARS)
    filter: Utf8Str | None = Field(None, max_length=1000, description="Sentences to draw from (the filter syntax).")
    strategy: Literal["random", "uncertain", "disagreement"] = "random"
    model_version: Utf8Str | None = Field(None, max_length=64, description="Default: the latest in the store.")
    other_model_version: Utf8Str | None = Field(None, max_length=64, description="For strategy disagreement.")
    size: int = Field(ge=1, le=MAX_SIZE)
    coders: list[Utf8Str] = Field(min_length=1, max_length=100)
    overlap: float = Field(0.0, ge=0.0, le=1.0, description="Share of the items every coder codes.")
    stratify: Literal["source", "genre"] | None = None
    seed: int = Field(0, ge=0, le=2**31 - 1)


class CodesRequest(BaseModel):
    model_config = {"extra": "forbid", "json_schema_extra": {"examples": [
        {"item_id": 1, "relevant": True, "stance": "pressuring", "frames": ["individual_responsibility"],
         "memo": "moeder als enige verantwoordelijke"}]}}

    item_id: int = ID
    relevant: bool | None
    stance: Utf8Str | None = Field(None, max_length=32, description="supportive, pressuring or neutral.")
    frames: list[Utf8Str] = Field(default_factory=list, max_length=50, description="Codebook frame ids.")
    memo: Utf8Str | None = Field(None, max_length=10_000)


@router.post("/queues", status_code=201)
def post_queue(body: QueueRequest, coder: CoderDep, settings: SettingsDep, session: WriteSessionDep) -> dict:
    """Coder (X-API-Key): draw a coding queue from the stored sentences and give its items to the coders."""
    unknown = sorted(set(body.coders) - set(settings.coders.values()))
    if unknown:
        raise HTTPException(422, f"unknown coder {', '.join(map(repr, unknown))}: coders are the names in "
                                 f"DISCOURSE_API_CODERS")
    return _answer(lambda: create_queue(session, QueueSpec(**body.model_dump())))


@router.get("/me")
def get_me(coder: CoderDep, session: SessionDep) -> dict:
    """Coder (X-API-Key): who the key's coder is, and the queues that give them sentences, with their progress."""
    return {"coder": coder, "queues": coder_queues(session, coder)}


@router.get("/next", responses={204: {"description": "The coder has coded every item of the queue."}})
def get_next(coder: CoderDep, settings: SettingsDep, session: SessionDep, queue: Utf8Str = QUEUE):
    """Coder (X-API-Key): the coder's next uncoded sentence in the queue, with its context; 204 when done."""
    item = _answer(lambda: next_item(session, queue, coder, suggestions=settings.show_suggestions))
    return Response(status_code=204) if item is None else item


@router.post("")
def post_annotation(body: CodesRequest, coder: CoderDep, session: WriteSessionDep) -> dict:
    """Coder (X-API-Key): save the coder's codes for an item; saving again replaces them (one row)."""
    return _write(session, lambda: save_annotation(session, body.item_id, coder, relevant=body.relevant,
                                                   stance=body.stance, frames=body.frames, memo=body.memo))


@router.post("/undo")
def post_undo(coder: CoderDep, settings: SettingsDep, session: WriteSessionDep, queue: Utf8Str = QUEUE) -> dict:
    """Coder (X-API-Key): remove the coder's last saved annotation in the queue; its item, to code again."""
    return _answer(lambda: undo(session, queue, coder, suggestions=settings.show_suggestions))


@router.post("/adjudications")
def post_adjudication(body: CodesRequest, coder: CoderDep, session: WriteSessionDep) -> dict:
    """Coder (X-API-Key): the adjudicated code of an item, stored beside the coders' own."""
    return _write(session, lambda: save_adjudication(session, body.item_id, coder, relevant=body.relevant,
                                                     stance=body.stance, frames=body.frames, memo=body.memo))


class TrainRequest(BaseModel):
    model_config = {"extra": "forbid", "json_schema_extra": {"examples": [{"queue": "pilot", "corpus": True}]}}

    queue: Utf8Str | None = Field(None, max_length=NAME_CHARS, description="Only codes coded in this queue.")
    filter: Utf8Str | None = Field(None, max_length=1000, description="Only codes of sentences this filter selects.")
    corpus: bool = Field(True, description="Also fit on the project's authored corpus.")
    holdout: float = Field(0.2, ge=0.05, le=0.5, description="Share of the codes held out to compare the models.")
    model_version: str | None = Field(None, pattern=r"^[A-Za-z0-9._+-]{1,64}$",
                                      description="The new version (default: BASE+codesN).")


@router.post("/train", status_code=202)
def post_train(body: TrainRequest, coder: CoderDep, jobs: JobsDep, folder: ModelDirDep) -> dict:
    """Coder (X-API-Key): a job that trains a new version of the served model from the codes (adjudicated, else
    agreed), compares both on held-out codes and scores the store with the new version beside the old; follow it
    at GET /v1/annotations/train/{job_id}, then serve it with POST /v1/models/reload {"folder": ...} (admin)."""
    options = {"kind": TRAIN_FROM_ANNOTATIONS, **body.model_dump(), "base_model": str(folder), "coder": coder}
    return {"job_id": jobs.submit([], options), "state": "queued"}


@router.get("/train/{job_id}")
def get_train(coder: CoderDep, jobs: JobsDep, job_id: int = PathParam(ge=1, le=2**31 - 1)) -> dict:
    """Coder (X-API-Key): a training job's state and, once finished, the new version, its folder and the held-out
    figures of the new and the current model."""
    job = jobs.get(job_id)
    if job is None or job["options"].get("kind") != TRAIN_FROM_ANNOTATIONS:
        raise HTTPException(404, f"no training job {job_id}")
    return job


@router.get("/agreement", dependencies=[Depends(read_access)])
def get_agreement(session: SessionDep, queue: Utf8Str | None = Query(None, max_length=NAME_CHARS),
                  filter: Utf8Str | None = Query(None, max_length=1000),
                  resamples: int = Query(RESAMPLES, ge=0, le=10_000, description="Bootstrap resamples (0: none)."),
                  seed: int = Query(0, ge=0, le=2**31 - 1)) -> dict:
    """Cohen's κ (two coders) and Krippendorff's α (nominal, any number of coders) per dimension and per frame,
    with 95 % bootstrap intervals, over the annotations of a queue (or of the sentences a filter selects)."""
    rows = _answer(lambda: annotation_rows(session, filter, queue=queue))
    return agreement_report(rows, resamples=resamples, seed=seed)


@router.get("/disagreements")
def get_disagreements(coder: CoderDep, session: SessionDep,
                      queue: Utf8Str | None = Query(None, max_length=NAME_CHARS),
                      filter: Utf8Str | None = Query(None, max_length=1000)) -> dict:
    """Coder (X-API-Key): the items coders coded differently, each coder's codes and the adjudicated code where
    there is one; only items the asking coder has coded (nobody sees others' codes before coding an item)."""
    rows = _answer(lambda: annotation_rows(session, filter, queue=queue))
    return {"items": disagreements(rows, coder=coder)}


@router.get("/export", dependencies=[Depends(read_access)])
def get_export(session: SessionDep, format: Literal["csv", "jsonl"] = Query("csv", description=" or ".join(FORMATS)),
               queue: Utf8Str | None = Query(None, max_length=NAME_CHARS),
               filter: Utf8Str | None = Query(None, max_length=1000)) -> Response:
    """Every annotation (of a queue, of the sentences a filter selects) with the adjudicated code, as CSV or
    JSONL."""
    text = _answer(lambda: export_annotations(session, format, queue=queue, segment_filter=filter))
    return Response(text, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="annotations.{format}"'})


def _write(session: Session, write: Callable[[], dict]) -> dict:
    """Run a write and commit it; on any failure roll back, so nothing is half-written."""
    try:
        result = _answer(write)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def _answer(call: Callable):
    """The library's errors as HTTP: unknown item or queue 404, a queue name in use 409, bad input 422."""
    try:
        return call()
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except QueueExists as exc:
        raise HTTPException(409, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
