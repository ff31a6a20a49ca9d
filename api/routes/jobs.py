"""Archive-scoring jobs over HTTP: submit (API key), then follow their progress."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam  # ids beyond 2^31 would overflow the database's integer
from pydantic import BaseModel, Field

from discourse.ingest import FieldMapping
from discourse.pipeline.jobs import PathNotAllowed, allowed_paths

from ..deps import JobsDep, SettingsDep, require_api_key
from ..schemas import Utf8Str

router = APIRouter(tags=["jobs"])


class JobRequest(BaseModel):
    """Files or folders the server can read, under its data roots (DISCOURSE_API_DATA_ROOTS)."""
    model_config = {"json_schema_extra": {"examples": [
        {"paths": ["nos/2024.jsonl.gz"], "source": "nos", "map": "text=body,date=pub_date"}]}}

    paths: list[Utf8Str] = Field(min_length=1, max_length=100)
    source: Utf8Str | None = Field(None, max_length=200, description="Source name for records without one.")
    map: Utf8Str | None = Field(None, max_length=500, description="Field mapping, e.g. 'text=body,date=pub_date'.")
    batch_size: int = Field(64, ge=1, le=1024)
    prefilter: bool = True


@router.post("/jobs", status_code=202, dependencies=[Depends(require_api_key)])
async def submit_job(body: JobRequest, settings: SettingsDep, jobs: JobsDep) -> dict:
    """Admin (X-API-Key): score an archive into the store in the background. Paths outside the data roots, or
    with '..', are refused (403)."""
    try:
        FieldMapping.parse(body.map)
        paths = await asyncio.to_thread(allowed_paths, body.paths, settings.data_roots)
    except PathNotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except (FileNotFoundError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    options = {"source": body.source, "map": body.map, "batch_size": body.batch_size, "prefilter": body.prefilter}
    job_id = await asyncio.to_thread(jobs.submit, paths, options)
    return {"id": job_id, "state": "queued", "paths": paths}


# Reads need the key as well: a job shows server paths, its options and the text of any exception it met.
@router.get("/jobs/{job_id}", dependencies=[Depends(require_api_key)])
async def get_job(jobs: JobsDep, job_id: int = PathParam(ge=1, le=2**31 - 1)) -> dict:
    """Admin (X-API-Key): a job's state (queued, running, finished, failed), progress, runs and error."""
    job = await asyncio.to_thread(jobs.get, job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    return job


@router.get("/jobs", dependencies=[Depends(require_api_key)])
async def list_jobs(jobs: JobsDep) -> dict:
    """Admin (X-API-Key): the 50 most recent jobs."""
    return {"jobs": await asyncio.to_thread(jobs.recent)}
