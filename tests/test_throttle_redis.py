"""Throttle counters in a real Redis: two throttles (standing for two worker processes)
share every limit, keys expire, start-up names REDIS_URL, a failing Redis falls back to
per-process counting, and the REST login through the app uses it. Skipped without Redis,
unless REQUIRE_REDIS=1 makes that a failure."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError

from analysis.ratelimit import RateLimiter
from app import create_app
from auth.counters import RedisStore
from auth.throttle import LoginThrottle
from errors import ConfigError
from services import build_services, open_counters
from settings import Settings, describe_validation_error
from tests.helpers import FakeClock, free_port, make_settings, new_username, skip_or_fail

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CANARY = "canary-password-91d4"

MakeStore = Callable[[], RedisStore]


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        skip_or_fail("REQUIRE_REDIS", f"Redis at TEST_REDIS_URL is unusable: {exc}")
    name = f"sentiscope_test_{uuid.uuid4().hex[:12]}:"
    yield name
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def make_store(prefix: str) -> Iterator[MakeStore]:
    """Connect a new store each call: one per simulated worker process."""
    opened: list[RedisStore] = []

    def make() -> RedisStore:
        opened.append(RedisStore.connect(REDIS_URL, prefix=prefix))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def two_throttles(make_store: MakeStore, clock: FakeClock) -> tuple[LoginThrottle, LoginThrottle]:
    return LoginThrottle(store=make_store(), clock=clock), LoginThrottle(
        store=make_store(), clock=clock
    )


def stored(prefix: str) -> dict[str, list[tuple[bytes, float]]]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return {
            key.decode(): client.zrange(key, 0, -1, withscores=True)
            for key in client.scan_iter(match=f"{prefix}*")
        }
    finally:
        client.close()


def test_two_processes_share_the_account_counter(make_store: MakeStore, clock: FakeClock) -> None:
    first, second = two_throttles(make_store, clock)
    for _ in range(5):
        assert not first.login_failed("Victim", "198.51.100.1").blocked
    for _ in range(4):
        assert not second.login_failed("victim", "198.51.100.1").blocked
    lock = second.login_failed("victim", "198.51.100.1")  # the 10th failure, over both
    assert (lock.retry_after, lock.scope) == (900, "account")
    assert first.check_login("victim", "198.51.100.1").retry_after == 900
    assert first.check_login("victim", "203.0.113.10").retry_after == 0  # the owner's IP
    clock.advance(minutes=15)
    assert not second.check_login("victim", "198.51.100.1").blocked


def test_a_success_in_one_process_clears_the_count_in_the_other(
    make_store: MakeStore, clock: FakeClock
) -> None:
    first, second = two_throttles(make_store, clock)
    for _ in range(9):
        first.login_failed("owner", "203.0.113.10")
    second.login_succeeded("owner", "203.0.113.10")
    assert not first.login_failed("owner", "203.0.113.10").blocked


def test_two_processes_share_the_100_per_hour_ip_limit(
    make_store: MakeStore, clock: FakeClock
) -> None:
    first, second = two_throttles(make_store, clock)
    for n in range(99):  # a password spray: 99 usernames, alternating processes
        assert not (first if n % 2 else second).login_failed(f"user{n}", "192.0.2.200").blocked
    lock = first.login_failed("user99", "192.0.2.200")
    assert (lock.retry_after, lock.scope) == (3600, "ip")
    assert second.check_login("anyone", "192.0.2.200").retry_after == 3600
    clock.advance(hours=1)
    assert not second.check_login("anyone", "192.0.2.200").blocked


def test_30_failures_over_50_ips_and_two_processes_lock_the_username(
    make_store: MakeStore, clock: FakeClock
) -> None:
    first, second = two_throttles(make_store, clock)
    ips = [f"198.51.100.{n}" for n in range(1, 51)]
    first.login_succeeded("victim", "203.0.113.10")  # the owner logged in from home once
    verdicts = [(first if n % 2 else second).login_failed("victim", ips[n]) for n in range(30)]
    assert [v.blocked for v in verdicts] == [False] * 29 + [True]
    assert (verdicts[-1].retry_after, verdicts[-1].scope) == (60, "username")
    waits = []
    for n in range(30, 50):
        throttle = first if n % 2 else second
        wait = throttle.check_login("victim", ips[n]).retry_after
        waits.append(wait)
        assert second.check_login("victim", "203.0.113.10").retry_after == 0  # home is open
        clock.advance(seconds=wait)
        throttle.login_failed("victim", ips[n])
    assert waits[:6] == [60, 120, 240, 480, 900, 900]
    assert max(waits) == 900
    clock.advance(minutes=15)
    assert not first.check_login("victim", "203.0.113.99").blocked


def test_registrations_and_guests_are_counted_across_processes(
    make_store: MakeStore, clock: FakeClock
) -> None:
    first, second = two_throttles(make_store, clock)
    verdicts = [(first if n % 2 else second).register_attempt("192.0.2.77") for n in range(20)]
    assert [v.locked_now for v in verdicts] == [False] * 19 + [True]
    assert first.register_attempt("192.0.2.77").retry_after == 3600

    seconds = [0.0]
    guests = [RateLimiter(10, clock=lambda: seconds[0], store=make_store()) for _ in range(2)]
    assert all(guests[n % 2].allow("10.9.9.9") for n in range(10))
    assert not guests[0].allow("10.9.9.9") and not guests[1].allow("10.9.9.9")
    assert guests[1].retry_after("10.9.9.9") == 60
    seconds[0] = 60.0
    assert guests[0].allow("10.9.9.9")


def test_keys_expire_with_their_window_and_hold_no_password(
    prefix: str, make_store: MakeStore, clock: FakeClock
) -> None:
    throttle = LoginThrottle(store=make_store(), clock=clock)
    throttle.login_failed("Victim", "198.51.100.1")
    keys = stored(prefix)
    assert sorted(key.removeprefix(prefix).split(":")[0] for key in keys) == [
        "account",
        "ip",
        "username",
    ]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        ttls = {key.removeprefix(prefix).split(":")[0]: client.pttl(key) for key in keys}
    finally:
        client.close()
    assert 0 < ttls["account"] <= 15 * 60_000
    assert 0 < ttls["ip"] <= 3600_000
    assert 0 < ttls["username"] <= 12 * 3600_000
    scores = {score for members in keys.values() for _, score in members}
    assert scores == {clock().timestamp()}  # the injected clock's time, not Redis's


def test_redis_unreachable_at_start_up_names_redis_url(tmp_path: Path) -> None:
    url = f"redis://:{CANARY}@127.0.0.1:{free_port()}/0"
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, REDIS_URL=url)
    with pytest.raises(ConfigError) as caught:
        build_services(settings)
    message = caught.value.message
    assert message.startswith("REDIS_URL: Redis at 127.0.0.1:")
    assert "does not answer" in message and "leave REDIS_URL unset" in message
    assert CANARY not in message


def test_a_malformed_redis_url_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, REDIS_URL=f"{CANARY}@x")
    message = describe_validation_error(caught.value)  # what start-up prints
    assert message.startswith("REDIS_URL must look like redis://")
    assert CANARY not in message
    assert make_settings("sqlite:///x.db", tmp_path, REDIS_URL="  ").REDIS_URL is None


def test_redis_failing_at_run_time_counts_in_the_process_and_logs_an_error(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"redis://:{CANARY}@127.0.0.1:{free_port()}/0"
    store = RedisStore(redis.Redis.from_url(dead, socket_connect_timeout=1), prefix="x:")
    throttle = LoginThrottle(store=store, clock=clock)
    with caplog.at_level(logging.DEBUG):
        verdicts = [throttle.login_failed("victim", "198.51.100.1") for _ in range(10)]
    store.close()
    assert [v.blocked for v in verdicts] == [False] * 9 + [True]  # fail open, not unlimited
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "Redis at 127.0.0.1:" in errors[0].getMessage()
    assert "counting logins and guests in this process" in errors[0].getMessage()
    assert len(errors) == 1  # then quiet for a few seconds, not one line per login
    assert CANARY not in caplog.text


def test_rest_login_through_two_apps_sharing_redis(
    settings: Settings, prefix: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.DATABASE_URL is not None
    shared = make_settings(
        settings.DATABASE_URL,
        settings.DATA_DIR,
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=prefix,
        LOGIN_FAILURES_PER_ACCOUNT=2,
    )
    probe = open_counters(shared)
    assert isinstance(probe, RedisStore)
    probe.close()
    workers = [build_services(shared, clock=clock) for _ in range(2)]
    username = new_username()
    form = {"username": username, "password": CANARY}
    try:
        with (
            caplog.at_level(logging.DEBUG),
            TestClient(create_app(shared, workers[0])) as first,
            TestClient(create_app(shared, workers[1])) as second,
        ):
            codes = [
                first.post("/api/auth/token", data=form).status_code,
                second.post("/api/auth/token", data=form).status_code,
            ]
            refused = first.post("/api/auth/token", data=form)
    finally:
        for worker in workers:
            worker.close()
    assert codes == [401, 401]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(15 * 60)
    assert refused.json()["error"]["code"] == "rate_limited"
    keys = stored(prefix)
    assert f"{prefix}throttle:username:{username}" in keys
    assert CANARY not in repr(keys)
    assert CANARY not in caplog.text
