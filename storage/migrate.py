"""Run Alembic migrations from code: the app calls `upgrade_head` at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_head(engine: Engine) -> None:
    """Bring the schema up to the newest migration (a no-op when it already is)."""
    with engine.begin() as connection:
        _no_statement_timeout(connection)
        command.upgrade(alembic_config(connection), "head")


def downgrade_base(engine: Engine) -> None:
    with engine.begin() as connection:
        _no_statement_timeout(connection)
        command.downgrade(alembic_config(connection), "base")


def _no_statement_timeout(connection: Connection) -> None:
    # DB_STATEMENT_TIMEOUT_MS guards requests; rebuilding an index on a big table may
    # rightly take longer, and a migration cancelled half-way would stop start-up.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
