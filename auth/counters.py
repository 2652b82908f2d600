"""Sliding-window hit counters, in process memory or in Redis (shared by every process).

The login throttle (auth/throttle.py) and the guest limiter (analysis/ratelimit.py) keep
their counters here. A counter is a list of hit times for one key; hits older than the
window are forgotten. Times are the callers' clock readings (seconds, floats), so tests
move a fake clock instead of sleeping, and in Redis they are the sorted set's scores.

Keys hold usernames and client IPs only, never a password.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Protocol

from errors import ConfigError

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

MAX_KEYS = 100_000  # past this, the memory store forgets idle keys so memory stays bounded
REDIS_TIMEOUT = 1.0  # seconds per connect or command: a login must not hang on a sick Redis
REDIS_RETRY_AFTER = 5.0  # seconds on the local counters before Redis is tried again


class Add(IntEnum):
    NO = 0  # only look
    ALWAYS = 1
    UNDER_LIMIT = 2  # add only while the window holds fewer than `limit` hits


@dataclass(frozen=True)
class Hits:
    count: int  # hits in the window, this one included when it was added
    newest: tuple[float, ...]  # the times of up to `keep` newest hits, newest first
    added: bool = False


class CounterStore(Protocol):
    def hits(
        self, key: str, *, now: float, window: float, keep: int, add: Add = Add.NO, limit: int = 0
    ) -> Hits:
        """Forget hits older than `window`, maybe add one at `now`, and report (atomically)."""
        ...

    def clear(self, key: str) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """Counters in this process: each worker counts on its own; a restart forgets them."""

    def __init__(self) -> None:
        self._hits: dict[str, tuple[float, deque[float]]] = {}  # key -> (window, times)
        self._lock = threading.Lock()

    def hits(
        self, key: str, *, now: float, window: float, keep: int, add: Add = Add.NO, limit: int = 0
    ) -> Hits:
        with self._lock:
            if len(self._hits) > MAX_KEYS:
                self._prune(now)
            times = self._hits.get(key, (window, deque()))[1]
            while times and times[0] <= now - window:
                times.popleft()
            added = add == Add.ALWAYS or (add == Add.UNDER_LIMIT and len(times) < limit)
            if added:
                times.append(now)
            if times:
                self._hits[key] = (window, times)
            else:
                self._hits.pop(key, None)
            newest = tuple(times[-i] for i in range(1, min(keep, len(times)) + 1))
            return Hits(len(times), newest, added)

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def close(self) -> None:
        pass

    def _prune(self, now: float) -> None:
        idle = [k for k, (window, v) in self._hits.items() if not v or v[-1] <= now - window]
        for key in idle:
            del self._hits[key]


# One round trip, atomic: forget old hits, maybe add one, count, read the newest times.
# Every number is computed in Python and passed as a string, because Lua would print a
# float with 14 digits and lose the sub-millisecond part of a timestamp.
_HIT_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
local mode = tonumber(ARGV[4])
local added = 0
if mode == 1 or (mode == 2 and count < tonumber(ARGV[5])) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[7])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  count = count + 1
  added = 1
end
local newest = {}
local keep = tonumber(ARGV[6])
if keep > 0 and count > 0 then
  newest = redis.call('ZREVRANGE', KEYS[1], 0, keep - 1, 'WITHSCORES')
end
return {count, added, newest}
"""


class RedisStore:
    """Counters in Redis, one sorted set per key (score = hit time), shared by processes.

    Keys live `window` seconds after their last hit. When Redis fails at run time the
    store logs at ERROR and falls back to this process's memory (see `_on_error`), so
    logins keep working with per-process limits; it tries Redis again a few seconds later.
    """

    def __init__(self, client: redis.Redis, *, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._where = _describe_client(client)  # for log lines, never the password
        self._script = client.register_script(_HIT_SCRIPT)
        self._local = MemoryStore()
        self._down_until = 0.0  # time.monotonic() before which Redis is not tried

    @classmethod
    def connect(cls, url: str, *, prefix: str) -> RedisStore:
        """Connect to REDIS_URL and check that Redis answers; ConfigError saying how if not."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        try:
            client = redis.Redis.from_url(
                url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry=Retry(NoBackoff(), 1),  # once, for a connection Redis dropped on restart
            )
        except ValueError:
            raise ConfigError(
                "REDIS_URL cannot be parsed. Use redis://[:PASSWORD@]HOST:6379/0 (rediss:// "
                "for TLS), or leave REDIS_URL unset to keep the counters in each process."
            ) from None
        where = _describe_client(client)
        try:
            client.ping()
        except redis.RedisError as exc:
            client.close()
            raise ConfigError(
                f"REDIS_URL: {where} does not answer ({type(exc).__name__}: {exc}). Fix: start "
                "Redis or correct REDIS_URL (and its password), or leave REDIS_URL unset to "
                "keep the login and guest counters in each process."
            ) from None
        logger.info("Throttle counters in %s (key prefix %r)", where, prefix)
        return cls(client, prefix=prefix)

    def hits(
        self, key: str, *, now: float, window: float, keep: int, add: Add = Add.NO, limit: int = 0
    ) -> Hits:
        import redis

        if time.monotonic() < self._down_until:
            return self._local.hits(key, now=now, window=window, keep=keep, add=add, limit=limit)
        args = [
            repr(now),
            repr(now - window),
            str(max(1, math.ceil(window * 1000))),
            str(int(add)),
            str(limit),
            str(keep),
            f"{now!r}:{uuid.uuid4().hex}",  # unique: a fake clock repeats the same time
        ]
        try:
            count, added, flat = self._script(keys=[self._prefix + key], args=args)
        except redis.RedisError as exc:
            self._on_error(exc)
            return self._local.hits(key, now=now, window=window, keep=keep, add=add, limit=limit)
        newest = tuple(float(score) for score in flat[1::2])
        return Hits(int(count), newest, bool(added))

    def clear(self, key: str) -> None:
        import redis

        self._local.clear(key)
        try:
            self._client.delete(self._prefix + key)
        except redis.RedisError as exc:
            self._on_error(exc)

    def close(self) -> None:
        self._client.close()

    def _on_error(self, exc: Exception) -> None:
        # Fail open to the local counters: refusing every login while Redis is down would
        # let anyone who can upset Redis lock every user out, and the per-process limits
        # (what Sentiscope had before Redis) still bound guessing on each worker.
        self._down_until = time.monotonic() + REDIS_RETRY_AFTER
        logger.error(
            "%s failed (%s: %s); counting logins and guests in this process for the next "
            "%.0f s, so the limits are per process until it answers again",
            self._where,
            type(exc).__name__,
            exc,
            REDIS_RETRY_AFTER,
        )


def _describe_client(client: redis.Redis) -> str:
    options = client.connection_pool.connection_kwargs
    if "path" in options:
        return f"Redis at unix:{options['path']}"
    host, port = options.get("host", "localhost"), options.get("port", 6379)
    return f"Redis at {host}:{port}/{options.get('db', 0)}"
