"""`Database.read_scope`: each statement commits on its own (no BEGIN/COMMIT round trips),
errors are reported as in `session_scope`, and the pooled connection goes back to
ordinary transactions afterwards; inside `shared_reads` every read scope uses one
checked-out connection. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from errors import DatabaseUnavailable
from storage.engine import Database
from tests.helpers import FreshDatabase, pool_checkouts

PROBE = "CREATE TABLE read_scope_probe (n INTEGER)"
COUNT = text("SELECT count(*) FROM read_scope_probe")


@pytest.fixture(scope="module")
def db(database: FreshDatabase) -> Iterator[Database]:
    opened = Database(make_url(database.url), pool_size=1)
    with opened.engine.begin() as connection:
        connection.execute(text(PROBE))
    yield opened
    opened.dispose()


def others_see(db: Database) -> int:
    """The probe's row count as another connection sees it now."""
    with db.engine.connect() as other:
        return int(other.execute(COUNT).scalar_one())


def test_a_statement_in_a_read_scope_stands_on_its_own(db: Database) -> None:
    before = others_see(db)
    with db.read_scope() as session:
        session.execute(text("INSERT INTO read_scope_probe VALUES (1)"))
        assert others_see(db) == before + 1  # committed already: no transaction was open


def test_a_session_scope_after_it_is_one_transaction_again(db: Database) -> None:
    with db.read_scope() as session:
        session.execute(COUNT)
    before = others_see(db)
    with db.session_scope() as session:
        session.execute(text("INSERT INTO read_scope_probe VALUES (2)"))
        assert others_see(db) == before  # not before the block commits
    assert others_see(db) == before + 1


def test_a_failing_statement_raises_and_leaves_the_connection_usable(db: Database) -> None:
    # SQLite reports an unknown table as an OperationalError (DatabaseUnavailable here),
    # PostgreSQL as a ProgrammingError: either way the block raises.
    with pytest.raises((DatabaseUnavailable, ProgrammingError)), db.read_scope() as session:
        session.execute(text("SELECT * FROM no_such_table"))
    with db.read_scope() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1


def test_read_scopes_inside_shared_reads_share_one_checkout(db: Database) -> None:
    with pool_checkouts(db.engine) as seen:
        with db.shared_reads():
            with db.read_scope() as first:
                first.execute(COUNT)
            with db.read_scope() as second:
                second.execute(COUNT)
                assert second is first
        assert len(seen) == 1  # one connection, pinged once, for both
        with db.read_scope() as alone:
            alone.execute(COUNT)
        with db.read_scope() as again:
            again.execute(COUNT)
        assert len(seen) == 3  # outside the block each scope checks one out


def test_an_error_inside_shared_reads_is_raised_where_it_happens(db: Database) -> None:
    with db.shared_reads():
        with pytest.raises((DatabaseUnavailable, ProgrammingError)), db.read_scope() as session:
            session.execute(text("SELECT * FROM no_such_table"))
        with db.read_scope() as session:  # rolled back there: the shared session goes on
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    with db.read_scope() as session:
        assert session.execute(COUNT).scalar_one() >= 0
