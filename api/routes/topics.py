"""GET /v1/topics and /v1/topics/{id}: the topics of a fitted topic model (`discourse topics fit`), with terms,
size, examples, and each group's share of a topic (mothers vs fathers, parents vs institutions, per source or
month)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi import Path as PathParam

from discourse.store.selection import SegmentFilter
from discourse.topics.service import list_models, load_topic_model, topic_shares

from ..deps import SessionDep, read_access
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
    return {"models": models, "name": model_name, "meta": _public_meta(model.meta), "topics": model.topics()}


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
    keys = ("encoder_version", "filter", "created_at", "outlier_share_before", "outlier_share_after", "config")
    return {k: meta[k] for k in keys if k in meta}
