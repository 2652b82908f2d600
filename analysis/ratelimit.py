"""A sliding-window rate limiter per key (e.g. a client IP), for the guest demo."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from auth.counters import Add, CounterStore, MemoryStore


class RateLimiter:
    """Allow `limit` hits per `window` seconds per key.

    The counts live in `store`: this process's memory by default (behind several workers
    each keeps its own count, so the limit is per worker), or Redis (auth/counters.py),
    shared by every worker. It holds only keys and timestamps (no user data).
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        store: CounterStore | None = None,
        name: str = "guest",
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._store = store or MemoryStore()
        self._name = name

    def allow(self, key: str) -> bool:
        """Record a hit for `key`; False when it is over the limit (the hit is not counted)."""
        return self._store.hits(
            f"{self._name}:{key}",
            now=self._clock(),
            window=self.window,
            keep=0,
            add=Add.UNDER_LIMIT,
            limit=self.limit,
        ).added

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may be allowed again; 0 when it is under the limit."""
        now = self._clock()
        hits = self._store.hits(f"{self._name}:{key}", now=now, window=self.window, keep=self.limit)
        if hits.count < self.limit:
            return 0
        return max(1, math.ceil(hits.newest[self.limit - 1] + self.window - now))
