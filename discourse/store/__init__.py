"""The store every scored text ends up in, in SQLite (one file, the default) or PostgreSQL (a shared server):
documents and their sources, runs and jobs, document and segment scores, interview speakers, topic
assignments, and the records a run had to reject. Batch scoring of archives, interview ingestion, jobs and topic
models write it; comparisons, topic models and the dashboard read it.

The modules, in the order a run uses them:
  engine.py     make_engine / session_factory: the connection, with the SQLite pragmas a busy writer needs
  migrate.py    upgrade / current_revision: Alembic, run from code (the scripts live in migrations/)
  schema.py     the tables, as SQLAlchemy models
  writer.py     ScoreWriter: idempotent batched writes, one transaction per batch
  liveness.py   owners and heartbeats, so a run or job whose process died is seen as orphaned
  rows.py       document and segment score rows from the pipeline's results; start_run / recorded_run
  jobs.py       JobQueue: the jobs table, claimed and recovered by compare-and-set
  assignments.py  topic assignments of a fitted topic model
  annotations.py  coding: items (sentence spans), queue assignments, coders' annotations, adjudications
  queries.py    latest_model_version: the version readers default to
  filters.py    the one filter model (conditions parsed from the string syntax or dashboard parameters)
  selection.py  SegmentFilter / select_segments: scored segments by a researcher's filter (compare, topics)
"""

from discourse.store.engine import default_database_url, make_engine, session_factory
from discourse.store.migrate import current_revision, upgrade
from discourse.store.writer import ScoreWriter

__all__ = ["ScoreWriter", "current_revision", "default_database_url", "make_engine", "session_factory",
           "upgrade"]
