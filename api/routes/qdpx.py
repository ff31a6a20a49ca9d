"""REFI-QDA projects over HTTP: GET /v1/export/qdpx downloads the store's interviews (or a filtered set) as a .qdpx;
POST /v1/import/qdpx (X-API-Key) takes a .qdpx a QDA tool wrote, as the raw request body."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from discourse.qdpx import QdpxError, export_qdpx, import_qdpx

from ..deps import SessionDep, WriteSessionDep, read_access, require_api_key
from ..schemas import Utf8Str

router = APIRouter(tags=["qdpx"])

#: HTTP status of each kind of QdpxError: a file that is no .qdpx, one past the unpacking limits, one whose content
#: the schema or the store refuses.
STATUS = {"corrupt": 400, "too_large": 413, "schema": 422, "content": 422}


@router.get("/export/qdpx", dependencies=[Depends(read_access)], response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "the .qdpx archive"}})
async def export_project(session: SessionDep,
                         filter: Annotated[Utf8Str | None, Query(max_length=1000, description=(
                             "Export the documents of the sentences this filter selects (store filter syntax, e.g. "
                             "'genre=interview,parent=mother'); default: every interview."))] = None,
                         model_version: Annotated[Utf8Str | None, Query(max_length=64)] = None,
                         model: bool = True, coders: bool = True) -> Response:
    """The interviews (or the filtered documents) as a REFI-QDA project: sources, speakers as cases, the codebook
    as codes, sentences coded by the model and by the coders."""
    buffer = io.BytesIO()
    try:
        await asyncio.to_thread(export_qdpx, session, buffer, filter=filter, model_version=model_version,
                                include_model=model, include_coders=coders)
    except ValueError as exc:  # a filter that does not parse
        raise HTTPException(422, str(exc)) from None
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="discourse.qdpx"'})


@router.post("/import/qdpx", dependencies=[Depends(require_api_key)])
async def import_project(request: Request, session: WriteSessionDep,
                         source: Annotated[Utf8Str, Query(min_length=1, max_length=200, description=(
                             "Source name of the imported interview documents."))],
                         coder_map: Annotated[Utf8Str | None, Query(max_length=10_000, description=(
                             "JSON object: QDA user name -> coder name; a user not in it fails the import."))] = None
                         ) -> dict:
    """Admin (X-API-Key): import a .qdpx (the request body, Content-Type application/zip): sources as interview
    documents, cases as speakers, coded selections as annotations. All or nothing; the answer is the report of
    what was mapped to the codebook, kept as free codes and skipped."""
    mapping = _coder_map(coder_map)
    data = await request.body()
    if not data:
        raise HTTPException(400, "the request body is empty: send the .qdpx file as the body")
    try:
        report = await asyncio.to_thread(import_qdpx, session, io.BytesIO(data), source_name=source,
                                         coder_map=mapping)
    except QdpxError as exc:
        raise HTTPException(STATUS.get(exc.kind, 422), str(exc)) from None
    return report.as_dict()


def _coder_map(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    try:
        mapping = json.loads(text)
    except ValueError:
        mapping = None
    if not (isinstance(mapping, dict) and all(isinstance(v, str) for v in mapping.values())):
        raise HTTPException(422, [{"field": "coder_map",
                                   "message": "a JSON object of names, e.g. {\"Anna\": \"anna\"}"}])
    return mapping
