"""Brute-force throttling: failed-login and registration counters.

Failed logins are counted three times, in sliding windows:
- per account *and* client IP: `account` failures per window (10 per 15 min); keying by
  IP as well means an attacker elsewhere cannot lock a real user out this way;
- per client IP over every account: `ip` failures per window (100 per hour), which bounds
  password spraying;
- per account over every IP (`username`, after Keycloak's defaults): past 30 failures in
  12 hours the account is locked for 60 s, doubled by each further failure up to 15
  minutes. This bounds an attacker who has many addresses. A lock is short, failures
  during it are refused without being counted, and it does not apply to an IP this
  account logged in from in the last 30 days, so the real user is not locked out.
Registrations are counted per client IP. A successful login clears its account+IP count
(not the account's count over every IP: that would hand an attacker 30 more tries).

The counters live in a `CounterStore` (auth/counters.py): this process's memory by
default, Redis when REDIS_URL is set so that every worker shares them. They hold only
lower-cased usernames, IPs and times, never a password. Times come from the injected
clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, Protocol, TypeVar

from auth.counters import Add, CounterStore, Hits, MemoryStore
from auth.tokens import Clock, system_clock

KNOWN_IP_MEMORY = timedelta(days=30)  # how long a successful login exempts its IP


@dataclass(frozen=True)
class ThrottleRule:
    limit: int
    window: timedelta


@dataclass(frozen=True)
class LockRule:
    """Past `limit` failures in `window`, lock for `first`, doubled per failure up to `longest`."""

    limit: int = 30
    window: timedelta = timedelta(hours=12)
    first: timedelta = timedelta(seconds=60)
    longest: timedelta = timedelta(minutes=15)

    def lock_for(self, failures: int) -> timedelta:
        if failures < self.limit:
            return timedelta(0)
        doublings = min(failures - self.limit, 32)  # 2**32 minutes is past any cap
        return min(self.first * 2**doublings, self.longest)


class _Rule(Protocol):
    @property
    def limit(self) -> int: ...

    @property
    def window(self) -> timedelta: ...


RuleT = TypeVar("RuleT", bound=_Rule)


class _Counter(Generic[RuleT]):
    """Hit times per key, kept in `store` under `name:key` for `rule.window`.

    A subclass says how many of the newest times it needs and when, given them, the
    key may try again; `blocked_for` and `add` then answer in seconds to wait.
    """

    least_wait = 0  # the wait reported while at the limit, however close its end

    def __init__(self, name: str, rule: RuleT, store: CounterStore, clock: Clock) -> None:
        self.rule = rule
        self._name = name
        self._store = store
        self._clock = clock

    def blocked_for(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it is under the limit."""
        return self._wait(self._hits(key, Add.NO))

    def add(self, key: str) -> int:
        """Record a hit; return how long `key` must now wait (0: still under the limit)."""
        return self._wait(self._hits(key, Add.ALWAYS))

    def _keep(self) -> int:
        raise NotImplementedError

    def _until(self, hits: Hits) -> float:
        """When `key` may try again, given hits at or over the limit."""
        raise NotImplementedError

    def _hits(self, key: str, add: Add) -> Hits:
        return self._store.hits(
            f"{self._name}:{key}",
            now=self._clock().timestamp(),
            window=self.rule.window.total_seconds(),
            keep=self._keep(),
            add=add,
            limit=self.rule.limit,
        )

    def _wait(self, hits: Hits) -> int:
        if hits.count < self.rule.limit:
            return 0
        wait = math.ceil(self._until(hits) - self._clock().timestamp())
        return max(self.least_wait, wait)


class SlidingWindow(_Counter[ThrottleRule]):
    """At most `rule.limit` hits per `rule.window` per key; `blocked_for` says how long to wait."""

    least_wait = 1

    def add_under_limit(self, key: str) -> tuple[bool, int]:
        """Record a hit unless `key` is at the limit; (whether it was recorded, wait now)."""
        hits = self._hits(key, Add.UNDER_LIMIT)
        return hits.added, self._wait(hits)

    def clear(self, key: str) -> None:
        self._store.clear(f"{self._name}:{key}")

    def _keep(self) -> int:
        return self.rule.limit

    def _until(self, hits: Hits) -> float:
        # The window frees a try when the limit-th newest hit leaves it.
        return hits.newest[self.rule.limit - 1] + self.rule.window.total_seconds()


class FailureLock(_Counter[LockRule]):
    """Failures per key in `rule.window`; past `rule.limit` each one starts a growing lock."""

    def _keep(self) -> int:
        return 1

    def _until(self, hits: Hits) -> float:
        # The lock runs from the newest failure, longer the more failures there are.
        return hits.newest[0] + self.rule.lock_for(hits.count).total_seconds()


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may go ahead; if not, for how long and which counter said so."""

    retry_after: int = 0
    scope: str = ""  # "ip", "account" (account+IP) or "username" (all IPs) when blocked
    locked_now: bool = False  # this attempt was allowed but brought its key to the limit

    @property
    def blocked(self) -> bool:
        return self.retry_after > 0


class LoginThrottle:
    """Counters of failed logins and registrations, in `store` (this process by default)."""

    def __init__(
        self,
        *,
        account: ThrottleRule = ThrottleRule(10, timedelta(minutes=15)),
        ip: ThrottleRule = ThrottleRule(100, timedelta(hours=1)),
        register: ThrottleRule = ThrottleRule(20, timedelta(hours=1)),
        username: LockRule = LockRule(),
        store: CounterStore | None = None,
        clock: Clock = system_clock,
    ) -> None:
        store = store or MemoryStore()
        self._account = SlidingWindow("account", account, store, clock)
        self._ip = SlidingWindow("ip", ip, store, clock)
        self._register = SlidingWindow("register", register, store, clock)
        self._username = FailureLock("username", username, store, clock)
        self._known = SlidingWindow("known", ThrottleRule(1, KNOWN_IP_MEMORY), store, clock)

    @property
    def account_rule(self) -> ThrottleRule:
        return self._account.rule

    @property
    def ip_rule(self) -> ThrottleRule:
        return self._ip.rule

    @property
    def register_rule(self) -> ThrottleRule:
        return self._register.rule

    @property
    def username_rule(self) -> LockRule:
        return self._username.rule

    def check_login(self, username: str, ip: str | None) -> Verdict:
        """Whether a login for `username` from `ip` may be tried now (nothing is counted)."""
        return self._verdict(
            username,
            ip,
            self._ip.blocked_for(_ip_key(ip)),
            self._account.blocked_for(_account_key(username, ip)),
            self._username.blocked_for(_username_key(username)),
        )

    def login_failed(self, username: str, ip: str | None) -> Verdict:
        """Count a failure; blocked when this failure reached a limit (a lock begins)."""
        return self._verdict(
            username,
            ip,
            self._ip.add(_ip_key(ip)),
            self._account.add(_account_key(username, ip)),
            self._username.add(_username_key(username)),
        )

    def login_succeeded(self, username: str, ip: str | None) -> None:
        self._account.clear(_account_key(username, ip))
        if ip:  # remember the address, so a lock over all IPs does not hold it back
            self._known.clear(_account_key(username, ip))
            self._known.add(_account_key(username, ip))

    def register_attempt(self, ip: str | None) -> Verdict:
        """Count a registration from `ip`; blocked (not counted) once over the limit."""
        added, wait = self._register.add_under_limit(_ip_key(ip))
        if not added:
            return Verdict(wait, "ip")
        return Verdict(locked_now=wait > 0, scope="ip" if wait else "")

    def _is_known(self, username: str, ip: str | None) -> bool:
        # One success in KNOWN_IP_MEMORY fills that one-hit window, which reads as "blocked".
        return bool(ip) and self._known.blocked_for(_account_key(username, ip)) > 0

    def _verdict(
        self, username: str, ip: str | None, by_ip: int, by_account: int, by_username: int
    ) -> Verdict:
        if by_username and self._is_known(username, ip):
            by_username = 0  # the owner's usual address: the lock is aimed at others
        scopes = (("ip", by_ip), ("account", by_account), ("username", by_username))
        scope, wait = max(scopes, key=lambda item: item[1])  # the first of equal waits
        return Verdict(wait, scope) if wait else Verdict()


def _ip_key(ip: str | None) -> str:
    return ip or "unknown"  # callers without an IP share one bucket


def _username_key(username: str) -> str:
    return username.strip().lower()[:64]


def _account_key(username: str, ip: str | None) -> str:
    return f"{_username_key(username)}\x00{_ip_key(ip)}"
