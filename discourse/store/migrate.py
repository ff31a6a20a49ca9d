"""Schema migrations, run from code: `upgrade(url)` brings a store to the newest schema (`alembic upgrade
head`), creating it if it is empty. The Alembic scripts ship inside the package (migrations/), so an installed
discourse needs no alembic.ini and no repository checkout.

To add a migration after changing schema.py (from the repository root, against a store at head):
    python -c "from discourse.store.migrate import revision; revision('describe the change')"
then read and fix the generated script; tests/test_store.py checks that the migrated schema equals schema.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from discourse.store.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Alembic's command API keeps module-level state while it runs (the `context` and `op` proxies): two threads of
# one process migrating at once (two job runners, a job and the CLI in tests) break each other. Across processes
# the database serialises them (PostgreSQL: an advisory lock in env.py; SQLite: the write lock).
_UPGRADE_LOCK = threading.Lock()


def alembic_config() -> Config:
    config = Config()
    # Config values go through ConfigParser interpolation: a "%" in the install path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def _engine(engine_or_url: Engine | str | None) -> tuple[Engine, bool]:
    """The engine to use, and whether it is ours to dispose of."""
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True


def upgrade(engine_or_url: Engine | str | None = None, revision: str = "head") -> str | None:
    """Run the migrations up to `revision` in one transaction (None → the default SQLite store). Running it on
    an up-to-date store does nothing. Returns the revision the store is at afterwards."""
    engine, owned = _engine(engine_or_url)
    try:
        with _UPGRADE_LOCK, engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        return current_revision(engine)
    finally:
        if owned:
            engine.dispose()


def current_revision(engine_or_url: Engine | str | None = None) -> str | None:
    """The store's Alembic revision; None for a store that was never migrated."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def head_revision() -> str | None:
    """The newest revision the shipped scripts define."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision(message: str, engine_or_url: Engine | str | None = None, rev_id: str | None = None) -> None:
    """Autogenerate a new migration script from the difference between schema.py and the store (a developer
    tool: review the script before committing it)."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    finally:
        if owned:
            engine.dispose()
