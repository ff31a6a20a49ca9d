"""The job queue in the store: the `jobs` table, read and written by compare-and-set so that several servers
sharing one store (PostgreSQL) never run a job twice. discourse.pipeline.jobs.JobRunner runs what it claims."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, insert, select, update

from .liveness import is_orphan
from .schema import Job, Run, utcnow

log = logging.getLogger(__name__)

#: A job interrupted this many times (its server died during each attempt) is failed, not queued again: it is
#: probably what kills the server.
MAX_ATTEMPTS = 5


class JobQueue:
    """The jobs of a store, as seen by server `owner` (see liveness.process_owner)."""

    def __init__(self, engine: Engine, owner: str, stale_after_s: float | None = None):
        self.engine = engine
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self.owner = owner
        self.stale_after_s = stale_after_s

    def submit(self, paths: list[str], options: dict) -> int:
        table = Job.__table__
        with self._write_engine.begin() as conn:
            return conn.execute(insert(table).returning(table.c.id), {
                "paths": paths, "options": options, "state": "queued", "created_at": utcnow(),
                "updated_at": utcnow()}).scalar_one()

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

    def claim(self) -> dict | None:
        """Take the oldest queued job for this server, or None. The UPDATE's `state = 'queued'` condition makes
        the claim a compare-and-set: of two servers that saw the same queued job, one updates it and the other
        updates nothing (PostgreSQL re-checks the condition on the row the winner committed) and tries the next."""
        table = Job.__table__
        for _ in range(20):  # each lost race means another server took a job; give up after a few
            with self.engine.connect() as conn:
                job_id = conn.execute(select(table.c.id).where(table.c.state == "queued").order_by(table.c.id)
                                      .limit(1)).scalar_one_or_none()
            if job_id is None:
                return None
            now = utcnow()
            with self._write_engine.begin() as conn:
                row = conn.execute(update(table).where(table.c.id == job_id, table.c.state == "queued")
                                   .values(state="running", owner=self.owner, heartbeat_at=now, updated_at=now,
                                           error=None)
                                   .returning(*table.c)).mappings().one_or_none()
            if row is not None:
                return dict(row)
        return None

    def recover(self) -> list[int]:
        """Queue again every running job whose server is gone (liveness.is_orphan), marking its runs
        "interrupted"; a job interrupted MAX_ATTEMPTS times is failed instead. Returns the jobs' ids."""
        table = Job.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.owner, table.c.heartbeat_at, table.c.run_ids)
                                .where(table.c.state == "running")).all()
        recovered = []
        for row in rows:
            if not is_orphan(row.owner, row.heartbeat_at, self.stale_after_s):
                continue
            attempts = len(row.run_ids or [])
            values = ({"state": "failed", "error": f"interrupted {attempts} times: its server died during every "
                                                  "attempt (out of memory?)"}
                      if attempts >= MAX_ATTEMPTS else {"state": "queued"})
            same_owner = table.c.owner.is_(None) if row.owner is None else table.c.owner == row.owner
            same_beat = (table.c.heartbeat_at.is_(None) if row.heartbeat_at is None
                         else table.c.heartbeat_at == row.heartbeat_at)
            with self._write_engine.begin() as conn:
                # Compare-and-set again: a server that claimed or beat meanwhile keeps its job.
                taken = conn.execute(update(table).where(table.c.id == row.id, table.c.state == "running",
                                                         same_owner, same_beat)
                                     .values(owner=None, heartbeat_at=None, updated_at=utcnow(), **values)).rowcount
                if taken == 1 and row.run_ids:
                    runs = Run.__table__
                    conn.execute(update(runs).where(runs.c.id.in_(row.run_ids), runs.c.state == "running")
                                 .values(state="interrupted", finished_at=utcnow()))
            if taken == 1:
                recovered.append(row.id)
                log.warning("job %s: its server (%s) is gone; %s", row.id, row.owner, values["state"])
        return recovered

    def update(self, job_id: int, **values) -> bool:
        """Update a job this server owns; False when it is no longer this server's (another took it over)."""
        table = Job.__table__
        with self._write_engine.begin() as conn:
            return conn.execute(update(table).where(table.c.id == job_id, table.c.owner == self.owner)
                                .values(**values, updated_at=utcnow())).rowcount == 1


def _public(row) -> dict:
    return {"id": row["id"], "state": row["state"], "paths": row["paths"], "options": row["options"],
            "progress": row["progress"], "run_ids": row["run_ids"] or [], "error": row["error"],
            "created_at": row["created_at"].isoformat() if row["created_at"] else None,
            "updated_at": row["updated_at"].isoformat() if row["updated_at"] else None}
