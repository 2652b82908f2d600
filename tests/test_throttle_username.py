"""The per-account cap over every IP: past 30 failures in 12 hours a username is locked for
60 s, doubled per further failure up to 15 minutes; the owner's known address stays open."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from auth.service import ClientInfo
from auth.throttle import LockRule, LoginThrottle
from errors import InvalidCredentials, RateLimited
from services import Services, build_services
from settings import Settings
from storage import auth_events
from tests.helpers import PASSWORD, FakeClock, new_username

BOTNET = [ClientInfo(ip=f"198.51.100.{n}", user_agent="bot") for n in range(1, 51)]
OWNER_HOME = ClientInfo(ip="203.0.113.10", user_agent="owner")
OWNER_TRAVELLING = ClientInfo(ip="203.0.113.99", user_agent="owner")  # a new address


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = build_services(settings, clock=clock)
    yield built
    built.close()


def attempt(services: Services, username: str, client: ClientInfo, password: str) -> int:
    """0 for a counted failure, else the Retry-After of a refused (uncounted) try."""
    try:
        services.accounts.login(username, password, client)
    except InvalidCredentials:
        return 0
    except RateLimited as refused:
        assert refused.retry_after is not None
        return refused.retry_after
    raise AssertionError("the attacker guessed the password")


def lock_events(services: Services, username: str) -> int:
    with services.db.session_scope() as session:
        rows = auth_events.for_username(session, username)
        return sum(row.event == "authn_login_lock" for row in rows)


def test_the_lock_rule_starts_at_60_s_doubles_and_stops_at_15_minutes() -> None:
    rule = LockRule()
    waits = [rule.lock_for(n).total_seconds() for n in (29, 30, 31, 32, 33, 34, 35, 10_000)]
    assert waits == [0, 60, 120, 240, 480, 900, 900, 900]


def test_30_failures_over_many_ips_lock_the_username_with_a_growing_delay(
    timed: Services, clock: FakeClock
) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    for n in range(30):  # 30 addresses, one failure each: no per-IP limit is near
        assert attempt(timed, username, BOTNET[n], "guess") == 0
    assert lock_events(timed, username) == 1
    waits = []
    for _ in range(6):
        wait = attempt(timed, username, BOTNET[40], "guess")  # a fresh address is refused
        waits.append(wait)
        clock.advance(seconds=wait)
        assert attempt(timed, username, BOTNET[41], "guess") == 0  # one more counted try
    assert waits == [60, 120, 240, 480, 900, 900]
    assert lock_events(timed, username) == 7
    assert attempt(timed, username, OWNER_TRAVELLING, PASSWORD) == 900
    clock.advance(minutes=15)
    assert timed.accounts.login(username, PASSWORD, OWNER_TRAVELLING).account.username == username


def test_an_attacker_with_50_ips_cannot_lock_the_real_user_out_for_more_than_15_minutes(
    timed: Services, clock: FakeClock
) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    timed.accounts.login(username, PASSWORD, OWNER_HOME)  # the owner's usual address
    counted = 0
    longest_lock = 0
    for minute in range(12 * 60):  # 12 hours; every address tries once a minute
        for bot in BOTNET:
            wait = attempt(timed, username, bot, f"guess {minute}")
            counted += wait == 0
            longest_lock = max(longest_lock, wait)
        if minute % 60 == 0:  # from home the owner is never held back by the attack
            assert timed.accounts.login(username, PASSWORD, OWNER_HOME).account
        clock.advance(minutes=1)
    assert longest_lock == 900
    # 30 at once, then one per lock: at minutes 1, 3 and 7, then every 15 minutes from
    # minute 15 to 705 (47): 80 guesses in 12 hours instead of 50 x 10 per 15 minutes.
    assert counted == 80
    clock.advance(minutes=15)  # the attack stops; 15 minutes later anyone may log in
    assert timed.accounts.login(username, PASSWORD, OWNER_TRAVELLING).account.username == username


def test_failures_more_than_12_hours_old_no_longer_count(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    for n in range(29):
        assert not throttle.login_failed("Victim", BOTNET[n].ip).blocked
    clock.advance(hours=12)
    assert not throttle.login_failed(" victim ", BOTNET[29].ip).blocked
    clock.advance(hours=1)
    for n in range(28):
        assert not throttle.login_failed("victim", BOTNET[n].ip).blocked
    lock = throttle.login_failed("VICTIM", BOTNET[49].ip)  # usernames are not case-sensitive
    assert (lock.retry_after, lock.scope) == (60, "username")
    assert throttle.check_login("victim", OWNER_TRAVELLING.ip).retry_after == 60
    assert throttle.check_login("someone else", OWNER_TRAVELLING.ip).retry_after == 0


def test_per_ip_and_per_account_limits_still_hold(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    sprayer = BOTNET[0].ip
    for n in range(100):
        verdict = throttle.login_failed(f"user{n}", sprayer)
    assert (verdict.retry_after, verdict.scope) == (3600, "ip")
    for _ in range(10):
        verdict = throttle.login_failed("victim", BOTNET[1].ip)
    assert (verdict.retry_after, verdict.scope) == (900, "account")
    assert throttle.check_login("victim", BOTNET[2].ip).retry_after == 0


def test_username_lock_logs_never_contain_the_password(
    timed: Services, caplog: pytest.LogCaptureFixture
) -> None:
    username = new_username()
    secret = "canary-password-5c1e"
    with caplog.at_level(logging.DEBUG):
        for n in range(31):
            attempt(timed, username, BOTNET[n], secret)
    assert "Login lock (username limit)" in caplog.text
    assert "Login refused: too many failures (username limit)" in caplog.text
    assert secret not in caplog.text


def test_the_default_rule_matches_keycloak() -> None:
    rule = LoginThrottle().username_rule
    assert (rule.limit, rule.window) == (30, timedelta(hours=12))
    assert (rule.first, rule.longest) == (timedelta(seconds=60), timedelta(minutes=15))
