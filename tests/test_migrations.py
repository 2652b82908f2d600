"""Alembic: migrating an empty database to head, and back, on the active backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from settings import normalize_database_url
from storage.engine import Database
from storage.migrate import current_revision, downgrade_base, head_revision, upgrade_head
from storage.models import Base
from storage.procrastinate_schema import PROCRASTINATE_TABLE_PREFIX
from tests.helpers import fresh_database

TABLES = {
    "users",
    "predictions",
    "batches",
    "auth_events",
    "batch_jobs",
    "batch_chunks",
    "batch_blobs",
}


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Database]:
    """A brand-new empty database on the backend under test."""
    for fresh in fresh_database(tmp_path):
        db = Database(normalize_database_url(fresh.url))
        yield db
        db.dispose()


def test_upgrade_head_on_an_empty_database_creates_every_table(empty: Database) -> None:
    assert current_revision(empty.engine) is None
    upgrade_head(empty.engine)
    assert current_revision(empty.engine) == head_revision()
    assert set(inspect(empty.engine).get_table_names()) >= TABLES


def test_upgrade_is_idempotent_and_downgrade_reverses_it(empty: Database) -> None:
    upgrade_head(empty.engine)
    upgrade_head(empty.engine)
    downgrade_base(empty.engine)
    assert not TABLES & set(inspect(empty.engine).get_table_names())
    upgrade_head(empty.engine)
    assert current_revision(empty.engine) == head_revision()


def _ours(name: str | None, type_: str, _parent: object) -> bool:
    """procrastinate's tables (PostgreSQL) come from its own schema script, not our models."""
    return not (type_ == "table" and (name or "").startswith(PROCRASTINATE_TABLE_PREFIX))


# SQLite cannot reflect the expression index on lower(username); the test below covers it.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_match_the_models(empty: Database) -> None:
    upgrade_head(empty.engine)
    with empty.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _ours}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_usernames_are_unique_regardless_of_case(empty: Database) -> None:
    upgrade_head(empty.engine)
    insert = text(
        "INSERT INTO users (username, password_hash, is_admin, disabled, token_version, "
        "created_at) VALUES (:name, 'x', false, false, 0, CURRENT_TIMESTAMP)"
    )
    with empty.engine.begin() as connection:
        connection.execute(insert, {"name": "Alice"})
    with pytest.raises(IntegrityError), empty.engine.begin() as connection:
        connection.execute(insert, {"name": "aLICE"})


def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(URL.create("sqlite", database=str(tmp_path / "pragmas.db")))
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    db.dispose()


def test_postgresql_engine_pings_its_pool(empty: Database) -> None:
    if empty.backend != "postgresql":
        pytest.skip("pool settings only apply to PostgreSQL")
    with empty.engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(empty.url)
    with admin.connect() as connection:  # the server drops the pooled connection
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    with empty.engine.connect() as connection:  # the checkout ping notices and reconnects
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
