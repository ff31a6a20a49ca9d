"""Archive-scoring jobs: submitted over HTTP, kept in the store, run one at a time in a background thread.

A job is a row in `jobs`; the thread takes the oldest queued job and runs `score_archive` on it. Jobs outlive the
server: at start-up, a job left "running" by a server that died is queued again, and its new run skips every
document the old one finished (score_archive is resumable), so nothing is scored twice.

Only files under the configured data roots may be scored: a path is resolved (symlinks followed) and must lie
inside a root; ".." is refused outright, so a request can never name a file the operator did not expose.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, insert, select, update

from .ingest import FieldMapping
from .prefilter import RelevancePrefilter
from .score_archive import RunSummary, score_archive
from .store.schema import Job, utcnow

PROGRESS_EVERY_S = 1.0


class PathNotAllowed(ValueError):
    """A job named a path outside the data roots (or used '..')."""


def allowed_paths(paths: list[str], roots: list[Path]) -> list[str]:
    """The resolved paths, each an existing file or folder inside one of `roots`; otherwise PathNotAllowed or
    FileNotFoundError naming the offending path. Relative paths are taken relative to the first root."""
    if not roots:
        raise PathNotAllowed("this server scores no files: no data roots are configured (DISCOURSE_API_DATA_ROOTS)")
    resolved_roots = [Path(root).resolve() for root in roots]
    out = []
    for raw in paths:
        path = Path(raw)
        if ".." in path.parts:
            raise PathNotAllowed(f"{raw!r}: '..' is not allowed in job paths")
        resolved = (path if path.is_absolute() else resolved_roots[0] / path).resolve()
        if not any(resolved.is_relative_to(root) for root in resolved_roots):
            raise PathNotAllowed(f"{raw!r} is outside the data roots")
        if not resolved.exists():
            raise FileNotFoundError(f"{raw!r} does not exist under the data roots")
        out.append(str(resolved))
    return out


class JobRunner:
    def __init__(self, engine: Engine, model: Callable[[], object], prefilter: RelevancePrefilter | None = None):
        self.engine = engine
        self.model = model  # called per job, so a model reload applies to the next job
        self.prefilter = prefilter or RelevancePrefilter.load()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Queue again the jobs a previous server left running, then start the worker thread."""
        table = Job.__table__
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.state == "running").values(state="queued", updated_at=utcnow()))
        self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop taking new jobs. A job in the middle of a batch is not waited for: its batch is rolled back with
        the process, and the job resumes at the next start."""
        self._stopping.set()
        self._wake.set()

    # -- submitting and reading ----------------------------------------------------------------------------------

    def submit(self, paths: list[str], options: dict) -> int:
        table = Job.__table__
        with self.engine.begin() as conn:
            job_id = conn.execute(insert(table).returning(table.c.id), {
                "paths": paths, "options": options, "state": "queued", "created_at": utcnow(),
                "updated_at": utcnow()}).scalar_one()
        self._wake.set()
        return job_id

    def get(self, job_id: int) -> dict | None:
        table = Job.__table__
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == job_id)).mappings().one_or_none()
        return _public(row) if row else None

    def recent(self, limit: int = 50) -> list[dict]:
        table = Job.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.id.desc()).limit(limit)).mappings().all()
        return [_public(row) for row in rows]

    # -- the worker ----------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            job = self._next_queued()
            if job is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            self._run(job)

    def _next_queued(self) -> dict | None:
        table = Job.__table__
        with self.engine.connect() as conn:
            return conn.execute(select(table).where(table.c.state == "queued").order_by(table.c.id)
                                .limit(1)).mappings().one_or_none()

    def _run(self, job) -> None:
        options = dict(job["options"])
        last = [0.0]

        def progress(summary: RunSummary, read: int) -> None:
            if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
                last[0] = time.monotonic()
                self._update(job["id"], progress={"read": read, **summary.as_dict()})

        run_ids = list(job["run_ids"] or [])
        self._update(job["id"], state="running")
        try:
            summary = score_archive(
                job["paths"], self.model(), db_url=self.engine.url.render_as_string(hide_password=False),
                source=options.get("source"), mapping=FieldMapping.parse(options.get("map")),
                batch_size=int(options.get("batch_size") or 64),
                prefilter=self.prefilter if options.get("prefilter", True) else None, progress=progress,
                command=f"job {job['id']}", on_run=lambda run_id: self._update(job["id"],
                                                                               run_ids=run_ids + [run_id]))
        except Exception as exc:  # a job fails alone; the worker goes on with the next one
            self._update(job["id"], state="failed", error=f"{type(exc).__name__}: {exc}")
            return
        self._update(job["id"], state="finished", progress=summary.as_dict())

    def _update(self, job_id: int, **values) -> None:
        table = Job.__table__
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == job_id).values(**values, updated_at=utcnow()))


def _public(row) -> dict:
    return {"id": row["id"], "state": row["state"], "paths": row["paths"], "options": row["options"],
            "progress": row["progress"], "run_ids": row["run_ids"] or [], "error": row["error"],
            "created_at": row["created_at"].isoformat() if row["created_at"] else None,
            "updated_at": row["updated_at"].isoformat() if row["updated_at"] else None}
