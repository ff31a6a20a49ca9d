"""GET /v1/dashboard/*: the read-only query API behind the dashboard page.

A thin face over discourse.dashboard: the query string is validated into that package's parameter models
(unknown parameters and bad values are a 422 naming the field), the answer is computed from the in-memory
snapshot in a worker thread, and `format=csv` turns any table into a CSV download. `X-Cache: hit|miss` says
whether the answer came from the per-query cache, which new scores invalidate.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from discourse.dashboard import DashboardService, QueryError
from discourse.dashboard.export import to_csv
from discourse.dashboard.params import (DocumentListParams, DocumentParams, GroupParams, MatrixParams, SummaryParams,
                                        TimeseriesParams, TopicParams)

from ..deps import DashboardDep, read_access
from ..schemas import Utf8Str

router = APIRouter(prefix="/dashboard", tags=["dashboard"], dependencies=[Depends(read_access)])


async def _answer(service: DashboardService, question: str, params) -> Response:
    try:
        # Rendered in the worker thread as well: a long document list is milliseconds of serialising that would
        # otherwise hold the event loop.
        return await asyncio.to_thread(_render, service, question, params)
    except QueryError as exc:
        raise HTTPException(exc.status, [{"field": exc.field, "message": str(exc)}]) from None


def _render(service: DashboardService, question: str, params) -> Response:
    answer, hit = service.answer(question, params)
    headers = {"X-Cache": "hit" if hit else "miss"}
    if getattr(params, "format", "json") == "csv":
        return Response(to_csv(question, answer), media_type="text/csv; charset=utf-8",
                        headers={**headers, "Content-Disposition": f'attachment; filename="{question}.csv"'})
    return JSONResponse(answer, headers=headers)


@router.get("/options")
async def options(service: DashboardDep) -> dict:
    """What the filter bar can offer: model versions, sources, genres, corpora, stances and frames (with Dutch
    and English labels), topic models, speaker attributes and their values, the date range."""
    return await asyncio.to_thread(service.options)


def _question(question: str, params_type: type, description: str) -> None:
    """GET /dashboard/`question`: `params_type` from the query string, answered by the service's `question`."""
    async def answer(service, params) -> Response:
        return await _answer(service, question, params)

    # Set as objects, not strings: FastAPI resolves string annotations in the module, where params_type is not.
    answer.__annotations__ = {"service": DashboardDep, "params": Annotated[params_type, Query()], "return": Response}
    answer.__doc__ = description
    router.add_api_route(f"/{question}", answer, methods=["GET"], response_model=None, name=question)


for _name, _params, _description in (
    ("summary", SummaryParams, "Sentences, documents, counts and shares per stance, and mean scores of the selection."),
    ("timeseries", TimeseriesParams,
     "Stance counts, shares and mean scores per day, ISO week, month or year of publication."),
    ("groups", GroupParams, """Stance figures per source, genre, corpus, stance, frame, topic, role or speaker attribute, sorted
    (e.g. the sources that pressure most: by=source&sort=share_pressuring)."""),
    ("matrix", MatrixParams,
     "Two dimensions crossed, e.g. frame × source: sentences per cell, their share of the column, stance shares."),
    ("documents", DocumentListParams, "The documents with selected sentences, with their figures; sorted and paged."),
    ("topics", TopicParams,
     "The topics of a fitted topic model within the selection: size, share, terms, stance shares."),
):
    _question(_name, _params, _description)


@router.get("/documents/{document_id:path}")
async def document(service: DashboardDep, params: Annotated[DocumentParams, Query()],
                   document_id: Utf8Str = PathParam(max_length=255)) -> dict:
    """One document: text, document scores with evidence, and every sentence's scores, evidence marked."""
    try:
        return await asyncio.to_thread(service.document, document_id, params.model_version)
    except QueryError as exc:
        raise HTTPException(exc.status, [{"field": exc.field, "message": str(exc)}]) from None
