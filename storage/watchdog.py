"""A client-side deadline for a PostgreSQL connection that may never answer.

libpq has no timeout for a query: a server behind a link that silently drops packets, or
a frozen proxy, leaves the caller blocked until TCP gives up. The watchdog shuts the
socket down when an operation overruns its deadline, so psycopg raises at once
("server closed the connection unexpectedly") and the pool replaces the connection.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

IDLE_EXIT_S = 60.0


class Watchdog:
    """One daemon thread per engine, started when needed, watching armed deadlines."""

    def __init__(self) -> None:
        self._armed: dict[int, Any] = {}  # token -> DBAPI connection
        self._heap: list[tuple[float, int]] = []
        self._tokens = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextmanager
    def deadline(self, dbapi_connection: Any, seconds: float) -> Iterator[None]:
        """Cut `dbapi_connection` off if the block still runs after `seconds`."""
        token = self._arm(dbapi_connection, seconds)
        try:
            yield
        finally:
            with self._wake:
                # Under the lock: once disarmed, the socket is never touched again, so a
                # closed connection's file descriptor cannot be reused and shut by mistake.
                self._armed.pop(token, None)

    def _arm(self, dbapi_connection: Any, seconds: float) -> int:
        with self._wake:
            token = next(self._tokens)
            self._armed[token] = dbapi_connection
            heapq.heappush(self._heap, (time.monotonic() + seconds, token))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sentiscope-db-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0][1] == token:
                # Sooner than every deadline the thread sleeps towards. Any other one is
                # later: waking the thread for it (a thread switch per ping) only made it
                # go back to sleep.
                self._wake.notify()
        return token

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    if not self._wake.wait(IDLE_EXIT_S) and not self._heap:
                        self._thread = None  # idle: the next deadline starts a new one
                        return
                    continue
                due, token = self._heap[0]
                now = time.monotonic()
                if due > now:
                    self._wake.wait(due - now)
                    continue
                heapq.heappop(self._heap)
                _shut_down(self._armed.pop(token))


def _shut_down(dbapi_connection: Any) -> None:
    """Shut the connection's socket both ways; the blocked read then sees end-of-file."""
    # Already closed or lost (psycopg raises its own error then): nothing waits on it.
    with suppress(Exception):
        fd = dbapi_connection.pgconn.socket
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
