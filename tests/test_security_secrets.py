"""Passwords, tokens and keys never reach a log line.

The account flows run over REST and gradio_client with canary passwords at DEBUG level;
no record (message, arguments or traceback) may carry a canary, a JWT, a personal API
token or a password hash. tests/conftest.py scans every record of the whole session the
same way and fails the session if one does.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gradio_client import Client

from tests.helpers import SECRET, bearer, new_username

RUN = uuid.uuid4().hex[:8]
CANARY_PASSWORD = f"canary pw {RUN} first"
CANARY_NEW_PASSWORD = f"canary pw {RUN} second"
CANARY_WRONG_PASSWORD = f"canary pw {RUN} wrong"
SHAPES = [
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"),  # a JWT
    re.compile(r"sst_[\w-]{16,}"),  # a personal API token
    re.compile(r"\$argon2(?:id|i|d)\$"),  # a password hash
]


def leaks(records: list[logging.LogRecord], secrets: list[str]) -> list[str]:
    """Every record, formatted with its arguments and traceback, that holds a secret."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    found = []
    for record in records:
        text = formatter.format(record) + repr(record.args) + repr(record.__dict__)
        if any(s in text for s in secrets) or any(p.search(text) for p in SHAPES):
            found.append(f"{record.name}:{record.lineno}")
    return found


def test_account_flows_over_rest_log_no_secret(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    username = new_username()
    secrets = [CANARY_PASSWORD, CANARY_NEW_PASSWORD, CANARY_WRONG_PASSWORD, SECRET]
    with caplog.at_level(logging.DEBUG):
        created = client.post(
            "/api/auth/register", json={"username": username, "password": CANARY_PASSWORD}
        )
        assert created.status_code == 201
        login = {"username": username, "password": CANARY_PASSWORD}
        token = client.post("/api/auth/token", data=login).json()["access_token"]
        secrets.append(token)
        wrong = {"username": username, "password": CANARY_WRONG_PASSWORD}
        assert client.post("/api/auth/token", data=wrong).status_code == 401
        # A password typed into the username field by mistake.
        typo = {"username": CANARY_WRONG_PASSWORD, "password": CANARY_PASSWORD}
        assert client.post("/api/auth/token", data=typo).status_code == 401
        short = {"username": new_username(), "password": "short"}
        assert client.post("/api/auth/register", json=short).status_code == 422

        change = {"current_password": CANARY_WRONG_PASSWORD, "new_password": CANARY_NEW_PASSWORD}
        assert (
            client.post("/api/auth/password", json=change, headers=bearer(token)).status_code == 401
        )
        change["current_password"] = CANARY_PASSWORD
        changed = client.post("/api/auth/password", json=change, headers=bearer(token))
        assert changed.status_code == 200
        fresh = changed.json()["access_token"]
        secrets.append(fresh)
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401  # old one

        made = client.post("/api/tokens", json={"name": "canary script"}, headers=bearer(fresh))
        personal = made.json()["token"]
        secrets.append(personal)
        assert client.get("/api/auth/me", headers=bearer(personal)).status_code == 200
        assert client.get("/api/auth/me", headers=bearer(personal + "x")).status_code == 401
        assert client.get("/api/auth/me", headers=bearer(fresh[:-2])).status_code == 401
        revoked = client.delete(f"/api/tokens/{made.json()['id']}", headers=bearer(fresh))
        assert revoked.status_code == 204

        assert client.post("/api/auth/logout", headers=bearer(fresh)).status_code == 204
        again = client.post(
            "/api/auth/token", data={"username": username, "password": CANARY_NEW_PASSWORD}
        ).json()["access_token"]
        secrets.append(again)
        gone = client.post(
            "/api/auth/delete-account",
            json={"password": CANARY_NEW_PASSWORD},
            headers=bearer(again),
        )
        assert gone.status_code == 204
    assert any("Registered user" in r.getMessage() for r in caplog.records)  # logging was on
    assert leaks(caplog.records, secrets) == []


def test_gradio_client_login_logs_no_secret(
    live_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The live server runs uvicorn in a thread of this process, so its records are here."""
    username = new_username()
    with caplog.at_level(logging.DEBUG):
        client = Client(live_server, verbose=False)
        try:
            client.predict(username, CANARY_PASSWORD, api_name="/register")
            token = client.predict(username, CANARY_PASSWORD, api_name="/login")
            with pytest.raises(Exception, match="Incorrect username or password"):
                client.predict(username, CANARY_WRONG_PASSWORD, api_name="/login")
            client.predict(token, api_name="/history")
        finally:
            client.close()
    assert caplog.records, "no log records: the check would prove nothing"
    assert leaks(caplog.records, [CANARY_PASSWORD, CANARY_WRONG_PASSWORD, token, SECRET]) == []


def test_the_session_scan_catches_a_planted_secret() -> None:
    """The session-wide handler from conftest recognises each kind of secret."""
    (scanner,) = [h for h in logging.getLogger().handlers if type(h).__name__ == "SecretScanner"]
    probe: Any = type(scanner)()
    logger = logging.getLogger(f"tests.secret_probe.{RUN}")
    logger.propagate = False  # keep the planted secrets out of the real scan
    logger.addHandler(probe)
    try:
        logger.warning("login %s", "eyJhbGciOi.eyJzdWIi.c2ln")
        logger.warning("token sst_%s", "a" * 40)
        logger.warning("hash $argon2id$v=19$m=65536")
        logger.warning("key %s", SECRET)
        logger.warning("nothing to see")
    finally:
        logger.removeHandler(probe)
    assert len(probe.hits) == 4 and probe.records == 5
    assert all("<secret>" in hit and SECRET not in hit for hit in probe.hits)
    assert getattr(scanner, "hits") == []  # noqa: B009 - nothing leaked so far this session
