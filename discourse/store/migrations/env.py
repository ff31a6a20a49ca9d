"""Alembic environment for discourse.store. It is run from code (discourse.store.migrate.upgrade), which hands
over an open connection in config.attributes["connection"]; the `alembic` command line works too, with
`-x url=...` or sqlalchemy.url set (e.g. `alembic -c <ini with script_location = discourse/store/migrations>`).
"""

from __future__ import annotations

from alembic import context

from discourse.store.schema import Base

config = context.config
target_metadata = Base.metadata

#: Any constant: PostgreSQL advisory lock key so that two workers starting at once do not both migrate.
MIGRATION_LOCK_KEY = 7_310_420_001


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table (needed by later migrations).
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    from discourse.store.engine import make_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("discourse.store migrations run online only (offline SQL scripts are not maintained)")
run_online()
