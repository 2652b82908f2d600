"""Brute-force throttling: limits per account+IP and per IP, no long lock-out of the real
user, registration limits, lock events recorded, 429 with Retry-After over REST."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from auth.service import ClientInfo
from errors import InvalidCredentials, RateLimited
from services import Services, build_services
from settings import Settings
from storage import auth_events
from tests.helpers import PASSWORD, FakeClock, make_settings, new_username

ATTACKER = ClientInfo(ip="198.51.100.66", user_agent="attacker")
OWNER = ClientInfo(ip="203.0.113.10", user_agent="owner")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    """Fresh counters per test, on the module's database, with a clock tests move."""
    built = build_services(settings, clock=clock)
    yield built
    built.close()


def fail(services: Services, username: str, client: ClientInfo, times: int) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            services.accounts.login(username, "not the password", client)


def events(services: Services, username: str) -> list[str]:
    with services.db.session_scope() as session:
        return [row.event for row in reversed(auth_events.for_username(session, username))]


def test_ten_failures_per_account_then_429_until_the_window_passes(
    timed: Services, clock: FakeClock
) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    fail(timed, username, ATTACKER, 10)
    with pytest.raises(RateLimited) as caught:  # even the right password waits
        timed.accounts.login(username, PASSWORD, ATTACKER)
    assert caught.value.retry_after == 15 * 60
    assert "Too many failed logins" in caught.value.message
    assert events(timed, username).count("authn_login_lock") == 1
    clock.advance(minutes=15)
    assert timed.accounts.login(username, PASSWORD, ATTACKER).account.username == username


def test_an_attacker_cannot_lock_the_real_user_out(timed: Services) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    fail(timed, username, ATTACKER, 10)
    with pytest.raises(RateLimited):
        timed.accounts.login(username, PASSWORD, ATTACKER)
    assert timed.accounts.login(username, PASSWORD, OWNER).account.username == username


def test_success_resets_the_account_counter(timed: Services) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    for _ in range(3):
        fail(timed, username, OWNER, 9)
        timed.accounts.login(username, PASSWORD, OWNER)


def test_unknown_usernames_are_throttled_the_same_way(timed: Services) -> None:
    username = new_username()  # never registered: the reply must not reveal that
    fail(timed, username, ATTACKER, 10)
    with pytest.raises(RateLimited):
        timed.accounts.login(username, "anything at all", ATTACKER)
    assert events(timed, username)[-1] == "authn_login_lock"


def test_at_most_100_failures_per_ip_per_hour_over_all_accounts(
    timed: Services, clock: FakeClock
) -> None:
    sprayer = ClientInfo(ip="192.0.2.200")
    for _ in range(20):  # 20 usernames x 5 tries: a password spray
        fail(timed, new_username(), sprayer, 5)
    with pytest.raises(RateLimited) as caught:
        timed.accounts.login(new_username(), "anything at all", sprayer)
    assert caught.value.retry_after == 3600
    clock.advance(hours=1)
    fail(timed, new_username(), sprayer, 1)


def test_registration_is_limited_per_ip(timed: Services, clock: FakeClock) -> None:
    client = ClientInfo(ip="192.0.2.77")
    for _ in range(20):
        timed.accounts.register(new_username(), PASSWORD, client)
    name = new_username()
    with pytest.raises(RateLimited) as caught:
        timed.accounts.register(name, PASSWORD, client)
    assert caught.value.retry_after == 3600
    with timed.db.session_scope() as session:
        locks = [row for row in auth_events.recent(session, 500) if row.client_ip == client.ip]
        assert [row.event for row in locks if row.event.startswith("authn")] == [
            "authn_register_lock"
        ]
    timed.accounts.register(new_username(), PASSWORD, ClientInfo(ip="192.0.2.78"))
    clock.advance(hours=1)
    timed.accounts.register(name, PASSWORD, client)


def test_throttle_logs_name_the_lock_without_the_password(
    timed: Services, caplog: pytest.LogCaptureFixture
) -> None:
    username = new_username()
    secret = "canary-password-7f3a"
    with caplog.at_level(logging.INFO):
        for _ in range(11):
            with pytest.raises((InvalidCredentials, RateLimited)):
                timed.accounts.login(username, secret, ATTACKER)
    assert "Login lock" in caplog.text and "Login refused" in caplog.text
    assert secret not in caplog.text


def test_rest_login_answers_429_with_retry_after(settings: Settings, clock: FakeClock) -> None:
    assert settings.DATABASE_URL is not None
    strict = make_settings(settings.DATABASE_URL, settings.DATA_DIR, LOGIN_FAILURES_PER_ACCOUNT=2)
    services = build_services(strict, clock=clock)
    username = new_username()
    try:
        with TestClient(create_app(strict, services)) as client:
            form = {"username": username, "password": "not the password"}
            codes = [client.post("/api/auth/token", data=form).status_code for _ in range(3)]
            response = client.post("/api/auth/token", data=form)
    finally:
        services.close()
    assert codes == [401, 401, 429]
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(15 * 60)
    assert response.json()["error"]["code"] == "rate_limited"


def test_the_ui_shows_the_lock_as_an_error(live_server: str) -> None:
    from gradio_client import Client

    gradio = Client(live_server, verbose=False)
    username = new_username()
    try:
        for _ in range(10):
            with pytest.raises(Exception, match="Incorrect username or password"):
                gradio.predict(username, "not the password", api_name="/login")
        with pytest.raises(Exception, match="Too many failed logins"):
            gradio.predict(username, "not the password", api_name="/login")
    finally:
        gradio.close()
