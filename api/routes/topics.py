"""GET /v1/topics and /v1/topics/{id}: the topics of a fitted topic model (`discourse topics fit`), with terms,
size, examples, and each group's share of a topic (mothers vs fathers, parents vs institutions, per source or
month). GET /v1/topics/shares: each topic's share per month or year and group, as JSON or CSV.

POST /v1/topics/merge|split|rename (X-API-Key): curation, each saved as a new topic model version beside the
old one (discourse.topics.curation); 201 with the new version's name and topics."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from discourse.dashboard.export import to_csv
from discourse.store.selection import SegmentFilter
from discourse.topics import curation
from discourse.topics.service import INTERVALS, list_models, load_topic_model, topic_shares, topic_shares_over_time

from ..deps import SessionDep, read_access, require_api_key
from ..schemas import Utf8Str

router = APIRouter(tags=["topics"], dependencies=[Depends(read_access)])

NAME = Query(None, max_length=100, description="Topic model (default: the only one, if there is one).")
GROUP_BY = Query(None, max_length=100, description="source, genre, month, year, role or a speaker attribute.")
FILTER = Query(None, max_length=1000, description="Restrict the group shares to these segments.")


@router.get("/topics")
async def get_topics(name: Utf8Str | None = NAME) -> dict:
    """The fitted topic models, and the topics of one: id, label, terms, size, examples."""
    models = await asyncio.to_thread(list_models)
    model_name = _pick(name, models)
    model = await asyncio.to_thread(_load, model_name)
    return {"models": models, "name": model_name, "versions": curation.versions(model_name),
            "meta": _public_meta(model.meta), "topics": model.topics()}


@router.get("/topics/shares", response_model=None)
async def get_topic_shares(session: SessionDep,
                           name: Utf8Str | None = Query(None, max_length=100, description=NAME.description),
                           interval: Literal[INTERVALS] = Query("month"),  # type: ignore[valid-type]
                           group: Utf8Str | None = Query(None, max_length=100, description=GROUP_BY.description),
                           filter: Utf8Str | None = Query(None, max_length=1000, description=FILTER.description),
                           format: Literal["json", "csv"] = Query("json")) -> dict | Response:
    """Each topic's share of the assigned segments per period (month or year) and group; the shares of a
    period and group sum to 1. `format=csv`: one row per period, group and topic."""
    model_name = _pick(name, await asyncio.to_thread(list_models))
    await asyncio.to_thread(_load, model_name)
    try:
        answer = await asyncio.to_thread(topic_shares_over_time, session, model_name, interval, group,
                                         SegmentFilter.parse(filter))
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if format == "csv":
        return Response(to_csv("topic_shares", answer), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="topic-shares-{model_name}.csv"'})
    return answer


@router.get("/topics/{topic_id}")
async def get_topic(session: SessionDep, topic_id: int = PathParam(ge=-1, le=100_000), name: Utf8Str | None = NAME,
                    group_by: Utf8Str | None = GROUP_BY, filter: Utf8Str | None = FILTER) -> dict:
    """One topic: terms, size, examples and, with group_by, each group's share of it."""
    model_name = _pick(name, await asyncio.to_thread(list_models))
    model = await asyncio.to_thread(_load, model_name)
    try:
        topic = model.topic(topic_id)
    except KeyError:
        raise HTTPException(404, f"topic model {model_name!r} has no topic {topic_id}") from None
    if group_by:
        try:
            shares = await asyncio.to_thread(topic_shares, session, model_name, group_by,
                                             SegmentFilter.parse(filter))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        topic = {**topic, "group_by": group_by,
                 "share_by_group": {group: by_topic.get(topic_id, 0.0) for group, by_topic in shares.items()}}
    return {"name": model_name, **topic}


class _Curation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Utf8Str = Field(max_length=100, description="The topic model version to start from (kept as it is).")
    new_name: Utf8Str | None = Field(None, max_length=100, description="Default: NAME.vN, the next version.")


class MergeRequest(_Curation):
    topics: list[int] = Field(min_length=2, max_length=100)
    label: Utf8Str | None = Field(None, max_length=curation.MAX_LABEL)


class SplitRequest(_Curation):
    topic: int = Field(ge=-1, le=100_000)
    into: int = Field(2, ge=2, le=20)


class RenameRequest(_Curation):
    topic: int = Field(ge=-1, le=100_000)
    label: Utf8Str = Field(max_length=curation.MAX_LABEL)


@router.post("/topics/merge", status_code=201, dependencies=[Depends(require_api_key)])
async def post_merge(session: SessionDep, body: MergeRequest) -> dict:
    """Merge topics into one: a new version with its own assignments."""
    return await _curate(curation.merge_topics, session, body.name, body.topics, body.label, body.new_name)


@router.post("/topics/split", status_code=201, dependencies=[Depends(require_api_key)])
async def post_split(session: SessionDep, body: SplitRequest) -> dict:
    """Split one topic's sentences into `into` topics: a new version with its own assignments."""
    return await _curate(curation.split_topic, session, body.name, body.topic, body.into, body.new_name)


@router.post("/topics/rename", status_code=201, dependencies=[Depends(require_api_key)])
async def post_rename(session: SessionDep, body: RenameRequest) -> dict:
    """Give a topic a label of your own: a new version, topics and assignments unchanged."""
    return await _curate(curation.rename_topic, session, body.name, body.topic, body.label, body.new_name)


async def _curate(operation, session, name: str, *args) -> dict:
    await asyncio.to_thread(_load, name)  # 404 for an unknown model, 422 for a bad name
    try:
        curated = await asyncio.to_thread(operation, session, name, *args)
    except curation.VersionExists as exc:
        raise HTTPException(409, str(exc)) from None
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"name": curated.name, "parent": curated.parent, "assigned": curated.assigned,
            "curation": curated.model.meta["curation"], "topics": curated.model.topics()}


def warm_up() -> None:
    """Load a fitted topic model, if there is one, at start-up: the first load imports BERTopic, UMAP, HDBSCAN
    and numba (~4 s, holding the GIL up to 0.2 s at a time), which inside a request would stall every other
    answer, /v1/health included. Later loads take milliseconds."""
    models = list_models()
    if models:
        load_topic_model(models[0])


def _pick(name: str | None, models: list[str]) -> str:
    if name:
        return name
    if len(models) == 1:
        return models[0]
    if not models:
        raise HTTPException(404, "no topic model has been fitted yet: run `discourse topics fit --name NAME`")
    raise HTTPException(422, f"several topic models ({', '.join(models)}): choose one with ?name=")


def _load(name: str):
    try:
        return load_topic_model(name)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    except FileNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None


def _public_meta(meta: dict) -> dict:
    keys = ("encoder_version", "filter", "created_at", "outlier_share_before", "outlier_share_after", "config",
            "parent", "curation", "labels")
    return {k: meta[k] for k in keys if k in meta}
