"""procrastinate's tables on PostgreSQL, created by the app's own migration step.

procrastinate ships its schema as one SQL script; it is applied once, when its jobs table
does not exist yet. A later procrastinate release with schema changes needs its own
migration scripts (they ship with it) run from a new Alembic revision.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

PROCRASTINATE_TABLE_PREFIX = "procrastinate_"


def is_applied(connection: Connection) -> bool:
    found = connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
    return found is not None


def apply_schema(connection: Connection) -> None:
    """Create procrastinate's tables, types and functions unless they are there."""
    if is_applied(connection):
        return
    from procrastinate.schema import SchemaManager

    # Many statements, dollar-quoted bodies and % signs: one parameterless query on the
    # driver's own connection (psycopg), inside the migration's transaction.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(SchemaManager.get_schema())
