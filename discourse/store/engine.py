"""The database connection. SQLite by default (one file next to the other data, nothing to run), PostgreSQL
through any `postgresql+psycopg://` URL when several machines score into one store.

SQLite is tuned for one batch writer and dashboard readers at the same time: WAL (readers never block the
writer and see the last committed batch), synchronous=NORMAL (durable at each checkpoint; in WAL a power cut
can lose the last batches but never corrupts, and a resumed run rewrites them), foreign keys on (SQLite leaves
them off), and a busy timeout so that a second writer waits instead of failing at once.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker, Session

from discourse.settings import data_folder

#: How long (ms) a SQLite connection waits for another writer's lock before raising "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: The file name of the default store inside the data folder.
DEFAULT_DATABASE_FILE = "discourse.sqlite"


def default_database_url() -> str:
    return f"sqlite:///{data_folder() / DEFAULT_DATABASE_FILE}"


def make_engine(url: str | None = None, **engine_kwargs) -> Engine:
    """An engine for `url`; None → the SQLite file `<data folder>/discourse.sqlite` (its folder is created).

    A bare `postgresql://` URL is read as `postgresql+psycopg://`: psycopg 3 is the driver installed, and
    SQLAlchemy would otherwise look for psycopg2.
    """
    parsed = make_url(url or default_database_url())
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **engine_kwargs)
        _configure_sqlite(engine)
        return engine
    # pre_ping: a long run outlives server restarts and idle-connection timeouts between batches.
    engine_kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **engine_kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take transaction control away from the sqlite3 module (it would BEGIN lazily and commit before DDL),
        # so that SQLAlchemy's own BEGIN below is the only one: DDL then runs inside the migration's
        # transaction, and writers can ask for BEGIN IMMEDIATE. (The recipe from SQLAlchemy's SQLite docs.)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # journal_mode is stored in the file; the others are per connection and must be set every time.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Writers pass execution_options(sqlite_begin="IMMEDIATE"): they take the write lock at BEGIN, where the
        # busy timeout applies. A deferred transaction that reads first and then writes can fail at once with
        # SQLITE_BUSY when another writer committed in between; readers stay deferred and never block.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            raise ValueError(f"sqlite_begin={mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads and small writes; objects stay readable after commit (expire_on_commit=False)."""
    return sessionmaker(engine, expire_on_commit=False)
