"""Storage for batch-scoring news archives (issue C): documents, runs, document and sentence scores, and the
records a run had to reject, in SQLite (one file, the default) or PostgreSQL (a shared server).

The modules, in the order a batch run uses them:
  engine.py    make_engine / session_factory: the connection, with the SQLite pragmas a busy writer needs
  migrate.py   upgrade / current_revision: Alembic, run from code (the scripts live in migrations/)
  schema.py    the tables, as SQLAlchemy models
  writer.py    ScoreWriter: idempotent batched writes, one transaction per batch
  queries.py   read functions for dashboards
"""

from discourse.store.engine import default_database_url, make_engine, session_factory
from discourse.store.migrate import current_revision, upgrade
from discourse.store.writer import ScoreWriter

__all__ = ["ScoreWriter", "current_revision", "default_database_url", "make_engine", "session_factory",
           "upgrade"]
