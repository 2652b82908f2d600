"""Brute-force throttling: failed-login and registration counters, in process memory.

Failed logins are counted twice, in sliding windows:
- per account *and* client IP: `account_limit` failures per `account_window` (10 per
  15 min); keying by IP as well means an attacker elsewhere cannot lock a real user out;
- per client IP over every account: `ip_limit` failures per `ip_window` (100 per hour),
  which bounds password spraying and a distributed attack on one account alike.
Registrations are counted per client IP. A successful login clears its account+IP count.

The counters live in this process (one per worker; a restart forgets them). They hold
only lower-cased usernames, IPs and times, never a password. Times come from the
injected clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from auth.tokens import Clock, system_clock

MAX_KEYS = 100_000  # past this, idle keys are forgotten so memory stays bounded


@dataclass(frozen=True)
class ThrottleRule:
    limit: int
    window: timedelta


class SlidingWindow:
    """Timestamps of hits per key; `blocked_for` says how long a key must wait."""

    def __init__(self, rule: ThrottleRule, clock: Clock) -> None:
        self.rule = rule
        self._clock = clock
        self._hits: dict[str, deque[datetime]] = {}

    def blocked_for(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it is under the limit."""
        now = self._clock()
        hits = self._recent(key, now)
        if len(hits) < self.rule.limit:
            return 0
        return max(1, math.ceil((hits[-self.rule.limit] + self.rule.window - now).total_seconds()))

    def add(self, key: str) -> int:
        """Record a hit; return how many hits `key` has in the window now."""
        now = self._clock()
        if len(self._hits) > MAX_KEYS:
            self._prune(now)
        hits = self._recent(key, now)
        hits.append(now)
        self._hits[key] = hits
        return len(hits)

    def clear(self, key: str) -> None:
        self._hits.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        hits = self._hits.get(key, deque())
        while hits and now - hits[0] >= self.rule.window:
            hits.popleft()
        return hits

    def _prune(self, now: datetime) -> None:
        idle = [k for k, v in self._hits.items() if not v or now - v[-1] >= self.rule.window]
        for key in idle:
            del self._hits[key]


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may go ahead; if not, for how long and which counter said so."""

    retry_after: int = 0
    scope: str = ""  # "account" or "ip" when blocked
    locked_now: bool = False  # this attempt was allowed but brought its key to the limit

    @property
    def blocked(self) -> bool:
        return self.retry_after > 0


class LoginThrottle:
    """Thread-safe counters of failed logins and registrations (one per process)."""

    def __init__(
        self,
        *,
        account: ThrottleRule = ThrottleRule(10, timedelta(minutes=15)),
        ip: ThrottleRule = ThrottleRule(100, timedelta(hours=1)),
        register: ThrottleRule = ThrottleRule(20, timedelta(hours=1)),
        clock: Clock = system_clock,
    ) -> None:
        self._account = SlidingWindow(account, clock)
        self._ip = SlidingWindow(ip, clock)
        self._register = SlidingWindow(register, clock)
        self._lock = threading.Lock()

    @property
    def account_rule(self) -> ThrottleRule:
        return self._account.rule

    @property
    def ip_rule(self) -> ThrottleRule:
        return self._ip.rule

    @property
    def register_rule(self) -> ThrottleRule:
        return self._register.rule

    def check_login(self, username: str, ip: str | None) -> Verdict:
        """Whether a login for `username` from `ip` may be tried now (nothing is counted)."""
        with self._lock:
            by_ip = self._ip.blocked_for(_ip_key(ip))
            if by_ip:
                return Verdict(by_ip, "ip")
            by_account = self._account.blocked_for(_account_key(username, ip))
            return Verdict(by_account, "account") if by_account else Verdict()

    def login_failed(self, username: str, ip: str | None) -> Verdict:
        """Count a failure; blocked when this failure reached a limit (a lock begins)."""
        with self._lock:
            self._ip.add(_ip_key(ip))
            self._account.add(_account_key(username, ip))
            by_ip = self._ip.blocked_for(_ip_key(ip))
            if by_ip:
                return Verdict(by_ip, "ip")
            by_account = self._account.blocked_for(_account_key(username, ip))
            return Verdict(by_account, "account") if by_account else Verdict()

    def login_succeeded(self, username: str, ip: str | None) -> None:
        with self._lock:
            self._account.clear(_account_key(username, ip))

    def register_attempt(self, ip: str | None) -> Verdict:
        """Count a registration from `ip`; blocked (not counted) once over the limit."""
        with self._lock:
            wait = self._register.blocked_for(_ip_key(ip))
            if wait:
                return Verdict(wait, "ip")
            self._register.add(_ip_key(ip))
            locked = self._register.blocked_for(_ip_key(ip)) > 0
            return Verdict(locked_now=locked, scope="ip" if locked else "")


def _ip_key(ip: str | None) -> str:
    return ip or "unknown"  # callers without an IP share one bucket


def _account_key(username: str, ip: str | None) -> str:
    return f"{username.strip().lower()[:64]}\x00{_ip_key(ip)}"
