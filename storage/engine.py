"""Engines and sessions: SQLite (WAL, busy_timeout, foreign keys) and PostgreSQL (pooled).

A `Database` owns one engine and hands out sessions through `session_scope()`; it is
shared between requests and Gradio sessions, while each session lives for one operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from errors import DatabaseUnavailable
from storage.errors import explain_connection_error

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: URL, *, connect_timeout: int = 5, pool_size: int = 5) -> Engine:
    """Create an engine with the pragmas or pool settings Sentiscope relies on."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_pre_ping=True,  # survive PostgreSQL restarts and idle-connection reapers
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_timeout=10,
        pool_recycle=1800,
        connect_args={"connect_timeout": connect_timeout, "application_name": "sentiscope"},
    )


def _sqlite_engine(url: URL) -> Engine:
    if url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer commits; busy_timeout makes a
        # second writer wait instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class Database:
    """One engine plus the session factory built on it."""

    def __init__(self, url: URL, *, connect_timeout: int = 5, pool_size: int = 5) -> None:
        self.url = url
        self.engine = make_engine(url, connect_timeout=connect_timeout, pool_size=pool_size)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        """Run `SELECT 1`; raise DatabaseUnavailable saying what is wrong and how to fix it."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            raise DatabaseUnavailable(explain_connection_error(self.url, exc)) from None

    def ping_or_dispose(self) -> None:
        """`ping`, releasing the engine's connections if it fails."""
        try:
            self.ping()
        except DatabaseUnavailable:
            self.dispose()
            raise

    def is_available(self) -> bool:
        try:
            self.ping()
        except DatabaseUnavailable:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
