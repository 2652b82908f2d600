"""Account enumeration over REST (byte-identical replies, one hash each) and log forging
with CR/LF in usernames. The service-level check is in test_account_service.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from services import build_services
from settings import Settings
from tests.helpers import PASSWORD, new_username
from tests.test_account_service import CountingHasher


@pytest.fixture(scope="module")
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture(scope="module")
def counted(settings: Settings, hasher: CountingHasher) -> Iterator[TestClient]:
    services = build_services(settings, hasher=hasher)
    with TestClient(create_app(settings, services)) as client:
        yield client
    services.close()


def test_unknown_user_and_wrong_password_get_byte_identical_replies(
    counted: TestClient, hasher: CountingHasher
) -> None:
    username = new_username()
    created = counted.post("/api/auth/register", json={"username": username, "password": PASSWORD})
    assert created.status_code == 201
    replies = {}
    for case, name in (("unknown user", new_username()), ("wrong password", username)):
        before = hasher.verifications
        response = counted.post(
            "/api/auth/token", data={"username": name, "password": "not the password"}
        )
        assert hasher.verifications - before == 1, case  # counted, never timed
        replies[case] = (response.status_code, response.content, response.headers["content-type"])
    assert replies["unknown user"] == replies["wrong password"]
    assert replies["unknown user"][0] == 401


def test_throttled_replies_do_not_tell_users_apart_either(
    counted: TestClient, hasher: CountingHasher
) -> None:
    username = new_username()
    counted.post("/api/auth/register", json={"username": username, "password": PASSWORD})
    replies = {}
    for case, name in (("unknown user", new_username()), ("real user", username)):
        form = {"username": name, "password": "not the password"}
        for _ in range(10):
            assert counted.post("/api/auth/token", data=form).status_code == 401
        before = hasher.verifications
        response = counted.post("/api/auth/token", data=form)
        assert hasher.verifications == before  # a refused try costs no hashing
        replies[case] = (response.status_code, response.content, response.headers["retry-after"])
    assert replies["unknown user"] == replies["real user"]
    assert replies["real user"][0] == 429


FORGED = [
    "alice\r\n2030-01-01 12:00:00 INFO auth: login_success for admin",
    "bob\nCRITICAL forged line",
    "carol\rWARNING overwritten",
    "dave\u2028INFO unicode line separator",
]


@pytest.mark.parametrize("username", FORGED)
def test_cr_lf_in_usernames_cannot_forge_log_lines(
    counted: TestClient, username: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        counted.post("/api/auth/register", json={"username": username, "password": PASSWORD})
        for _ in range(12):  # failures, then the lock and refusals, which log the name
            counted.post("/api/auth/token", data={"username": username, "password": "x" * 9})
    messages = [record.getMessage() for record in caplog.records]
    assert any("Login lock" in message for message in messages)
    for message in messages:
        assert not any(sep in message for sep in ("\r", "\n", "\u2028")), message
