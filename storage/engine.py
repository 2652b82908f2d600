"""Engines and sessions: SQLite (WAL, busy_timeout, foreign keys) and PostgreSQL (pooled).

A `Database` owns one engine and hands out sessions through `session_scope()`; it is
shared between requests and Gradio sessions, while each session lives for one operation.
`session_scope()` is also the one place where a lost, refused, timed-out or locked
database becomes `DatabaseUnavailable`, so every edge answers "try again" the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from errors import DatabaseUnavailable
from storage.errors import explain_connection_error, explain_runtime_error, first_line
from storage.watchdog import Watchdog

logger = logging.getLogger(__name__)

DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
DEFAULT_CONNECT_TIMEOUT_S = 2
# A request waits at most this long for a free pooled connection, then answers 503 (busy)
# instead of queueing for minutes behind requests stuck on an unreachable server.
POOL_TIMEOUT_S = 3
# A pooled connection must answer `SELECT 1` within this long when it is checked out, or
# it is dropped: a server behind a link that silently drops packets never says no.
PING_TIMEOUT_S = 1.5
POOL_BURST = 3  # connections a process may hold, as a multiple of DB_POOL_SIZE
SQLITE_MMAP_BYTES = 256 * 2**20  # address space, not memory: pages come from the OS cache
# libpq TCP settings: a peer that vanishes mid-statement is noticed in about 20 s instead of
# the kernel's two hours (keepalives) or fifteen minutes (retransmissions).
_TCP_OPTIONS = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "3",
    "keepalives_count": "3",
    "tcp_user_timeout": "20000",
}


def make_engine(
    url: URL,
    *,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT_S,
    pool_size: int = 5,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
) -> Engine:
    """Create an engine with the pragmas, timeouts and pool settings Sentiscope relies on.

    `statement_timeout_ms` (0: none) is PostgreSQL's `statement_timeout` and SQLite's
    `busy_timeout` (how long a write waits for another writer's lock).
    """
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, statement_timeout_ms)
    engine = create_engine(
        url,
        # Up to 3x DB_POOL_SIZE connections, each opened when first needed and then kept
        # (not an overflow that is closed at every check-in: under 20 busy users that
        # churn of PostgreSQL backends cost 15% of the requests served). LIFO: the
        # connection used last is handed out first, so a quiet process keeps few busy.
        pool_size=pool_size * POOL_BURST,
        max_overflow=0,
        pool_use_lifo=True,
        pool_timeout=POOL_TIMEOUT_S,
        pool_recycle=1800,
        connect_args=_postgres_connect_args(url, connect_timeout, statement_timeout_ms),
    )
    _ping_on_checkout(engine, Watchdog(), PING_TIMEOUT_S)
    return engine


def _postgres_connect_args(
    url: URL, connect_timeout: int, statement_timeout_ms: int
) -> dict[str, Any]:
    """libpq parameters; ones DATABASE_URL sets itself (`?keepalives_idle=...`) win."""
    args: dict[str, Any] = {"connect_timeout": connect_timeout, "application_name": "sentiscope"}
    args.update({key: value for key, value in _TCP_OPTIONS.items() if key not in url.query})
    own = url.query.get("options", "")
    own = own if isinstance(own, str) else " ".join(own)
    if statement_timeout_ms and "statement_timeout" not in own:
        # Sent in the start-up packet, so it holds from the first statement on; any
        # `?options=` of the URL (e.g. Neon's endpoint id) is kept in front of it.
        args["options"] = f"{own} -c statement_timeout={statement_timeout_ms}".strip()
    return args


def _ping_on_checkout(engine: Engine, watchdog: Watchdog, timeout: float) -> None:
    """SQLAlchemy's pool_pre_ping, but bounded: a ping that gets no answer is cut off.

    A failed ping raises DisconnectionError, which makes the pool drop every connection
    opened before now and try one fresh connection (bounded by connect_timeout).
    """

    @event.listens_for(engine, "connect")
    def _mark_fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["sentiscope_fresh"] = True

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop("sentiscope_fresh", False):
            return  # just connected: it answered a moment ago
        try:
            with watchdog.deadline(dbapi_connection, timeout):
                engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"the pooled connection did not answer: {exc}") from exc


def _sqlite_engine(url: URL, busy_timeout_ms: int) -> Engine:
    if url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # 0 means "no limit" like PostgreSQL's statement_timeout; SQLite's 0 would mean "never wait".
    busy_ms = busy_timeout_ms or 2**31 - 1
    engine = create_engine(
        url,
        connect_args={"timeout": busy_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer commits; busy_timeout makes a
        # second writer wait instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Reads through a memory map of the file (shared by every connection through the
        # OS page cache, so no memory per connection): a scan that looks up rows by index
        # is ~1.5x faster than through SQLite's own 2 MB cache (Insights on 100,000 rows).
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    return engine


class Database:
    """One engine plus the session factory built on it."""

    def __init__(
        self,
        url: URL,
        *,
        connect_timeout: int = DEFAULT_CONNECT_TIMEOUT_S,
        pool_size: int = 5,
        statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    ) -> None:
        self.url = url
        self.statement_timeout_ms = statement_timeout_ms
        self.engine = make_engine(
            url,
            connect_timeout=connect_timeout,
            pool_size=pool_size,
            statement_timeout_ms=statement_timeout_ms,
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Same pool; each statement commits on its own (client-side switch, no round trip).
        reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._reads = sessionmaker(reads, expire_on_commit=False)
        # The read session `shared_reads` lends to every `read_scope` inside its block.
        self._shared: ContextVar[Session | None] = ContextVar("shared_reads", default=None)

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises.

        Raises DatabaseUnavailable when the database cannot be reached, drops the
        connection, cancels a statement over DB_STATEMENT_TIMEOUT_MS or stays locked;
        the transaction is then rolled back, so nothing of the block was saved.
        """
        with self._scope(self._sessions()) as session:
            yield session

    @contextmanager
    def read_scope(self) -> Iterator[Session]:
        """A session for reads that need no snapshot shared by several statements: each
        statement runs on its own (autocommit), which saves the BEGIN and COMMIT round
        trips of a transaction. Checking a token and a History page run here, on every
        request. Errors as in `session_scope`."""
        shared = self._shared.get()
        if shared is None:
            with self._scope(self._reads()) as session:
                yield session
        else:  # lent by `shared_reads`, which closes it; errors are translated here too
            with self._translated(shared):
                yield shared

    @contextmanager
    def shared_reads(self) -> Iterator[None]:
        """Every `read_scope` in the block (same thread or task) shares one session, so one
        pooled connection and one checkout ping: a History request's token check and its
        page pay for one round trip less. Errors as in `session_scope`."""
        with self.read_scope() as session:
            lent = self._shared.set(session)
            try:
                yield
            finally:
                self._shared.reset(lent)

    @contextmanager
    def _scope(self, session: Session) -> Iterator[Session]:
        try:
            with self._translated(session):
                yield session
                session.commit()
        finally:
            session.close()

    @contextmanager
    def _translated(self, session: Session) -> Iterator[None]:
        """Roll back on any error; a database that is not there becomes DatabaseUnavailable."""
        try:
            yield
        except BaseException as exc:
            _rollback_quietly(session)
            if _is_unavailable(exc):
                logger.warning("Database operation failed: %s", first_line(exc))
                raise DatabaseUnavailable(
                    explain_runtime_error(self.url, exc, self.statement_timeout_ms)
                ) from exc
            raise

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


def _is_unavailable(exc: BaseException) -> bool:
    """Errors that say "not now" about the database rather than "wrong" about the request."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _rollback_quietly(session: Session) -> None:
    # After a lost connection the rollback itself may fail; the original error matters.
    with suppress(SQLAlchemyError):
        session.rollback()
