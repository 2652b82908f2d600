"""SQLite under concurrent writers: every write lands, and "database is locked" never
reaches a user (WAL + busy_timeout; a lock held past it becomes DatabaseUnavailable)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from analysis.filters import make_filters
from analysis.scoring import SOURCE_API
from auth.service import ClientInfo
from errors import DatabaseUnavailable
from services import Services, build_services
from tests.helpers import PASSWORD, make_settings, new_username

WRITERS, WRITES = 20, 50


@pytest.fixture(scope="module")
def sqlite_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The real services on a real SQLite file, whatever TEST_DATABASE_URL says."""
    data = tmp_path_factory.mktemp("sqlite")
    built = build_services(make_settings(f"sqlite:///{data / 'app.db'}", data))
    yield built
    built.close()


def test_20_writers_times_50_through_the_scoring_service_all_land(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    with services.db.session_scope() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    user = services.accounts.register(new_username(), PASSWORD)
    names = [services.accounts.register(new_username(), PASSWORD).username for _ in range(5)]
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS + len(names))

    def writer(n: int) -> None:
        start.wait()
        for i in range(WRITES):
            try:
                services.scoring.score(user.id, [f"writer {n} text {i} is fine"], source=SOURCE_API)
                if i % 10 == 0:  # readers in between, as the History tab would be
                    services.history.page(user.id, make_filters(), limit=5)
            except BaseException as exc:  # every failure is the finding
                errors.append(exc)

    def logger_in(name: str) -> None:
        start.wait()
        for _ in range(4):  # read the user, hash, write an auth event: one transaction
            try:
                services.accounts.login(name, PASSWORD, ClientInfo(ip="192.0.2.1"))
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    threads += [threading.Thread(target=logger_in, args=(name,)) for name in names]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    print(f"{WRITERS} x {WRITES} scored and recorded (and 20 logins) in {seconds:.1f} s")
    assert errors == []
    with services.db.session_scope() as session:
        rows = session.execute(
            text("SELECT count(*), count(DISTINCT text) FROM predictions WHERE user_id = :u"),
            {"u": user.id},
        ).one()
    assert tuple(rows) == (WRITERS * WRITES, WRITERS * WRITES)


def test_a_write_lock_held_past_the_timeout_is_a_clear_error_not_database_is_locked(
    tmp_path: Path,
) -> None:
    services = build_services(
        make_settings(f"sqlite:///{tmp_path / 'app.db'}", tmp_path, DB_STATEMENT_TIMEOUT_MS=300)
    )
    try:
        user = services.accounts.register(new_username(), PASSWORD)
        other = sqlite3.connect(tmp_path / "app.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable) as raised:
                services.scoring.score(user.id, ["Held up."], source=SOURCE_API)
            waited = time.monotonic() - started
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert "locked" not in raised.value.message
        assert "busy with another write for over 0.3 s" in raised.value.message
        assert "Try again" in raised.value.message
        assert 0.3 <= waited < 5, waited
        (scored,) = services.scoring.score(user.id, ["Free again."], source=SOURCE_API)
        assert scored.text == "Free again."
    finally:
        services.close()
