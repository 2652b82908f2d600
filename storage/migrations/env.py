"""Alembic environment: uses the app's connection, or Settings when run as `alembic ...`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.models import Base

# Any constant works; it only has to be the same for every Sentiscope process.
_MIGRATION_LOCK_ID = 73_120_250


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several workers starting at once must not migrate concurrently.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        context.run_migrations()


def _run_from_settings() -> None:
    from settings import load_settings
    from storage.engine import make_engine

    settings = load_settings()
    engine = make_engine(settings.database_url(), connect_timeout=settings.DB_CONNECT_TIMEOUT)
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()


_connection = context.config.attributes.get("connection")
if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
if _connection is not None:
    _run(_connection)
else:
    _run_from_settings()
