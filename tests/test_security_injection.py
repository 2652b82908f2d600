"""SQL injection corpus (tests/data/injection/sqli.txt) against every place a user's words
reach a query: usernames (register, login), passwords, texts (predict), the history and
insights filters, the admin's event filters and CSV cells and file names.

Every reply is a 2xx or a 4xx, never a 5xx; texts come back exactly as sent; the schema
(tables, columns, indexes) and the users table's admins are the same afterwards. Run on
SQLite by default and on PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

import csv
import io
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import SAWarning

from app import create_app
from services import Services
from settings import Settings
from storage.models import User
from tests.helpers import PASSWORD, bearer, new_username

CORPUS = Path(__file__).parent / "data" / "injection" / "sqli.txt"
PAYLOADS = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def schema(services: Services) -> dict[str, Any]:
    """Tables with their columns (name, type) and index names, as the database reports them."""
    found = inspect(services.db.engine)
    with warnings.catch_warnings():  # SQLite cannot reflect the lower(username) index
        warnings.simplefilter("ignore", SAWarning)
        return {
            table: (
                [(c["name"], str(c["type"])) for c in found.get_columns(table)],
                sorted(str(i["name"]) for i in found.get_indexes(table)),
            )
            for table in sorted(found.get_table_names())
        }


def admins(services: Services) -> int:
    with services.db.session_scope() as session:
        return session.scalar(select(func.count(User.id)).where(User.is_admin)) or 0


@pytest.fixture(scope="module")
def app(settings: Settings, services: Services) -> FastAPI:
    return create_app(settings, services)


@pytest.fixture(scope="module")
def admin_name(services: Services) -> str:
    username = new_username()
    services.accounts.register(username, PASSWORD, is_admin=True)
    return username


@pytest.fixture(scope="module")
def baseline(services: Services, admin_name: str) -> dict[str, Any]:
    return {"schema": schema(services), "admins": admins(services)}


@pytest.fixture(autouse=True)
def schema_unchanged(services: Services, baseline: dict[str, Any]) -> Iterator[None]:
    yield
    assert schema(services) == baseline["schema"]
    assert admins(services) == baseline["admins"]


def caller(app: FastAPI, n: int) -> TestClient:
    """A client at its own address, so per-IP login and sign-up limits never kick in."""
    return TestClient(
        app, client=(f"10.77.{n // 250}.{n % 250 + 1}", 40000), raise_server_exceptions=False
    )


class Replies:
    """Every reply's status, so a test can say how many were sent and that none was a 5xx."""

    def __init__(self) -> None:
        self.statuses: list[tuple[int, str]] = []

    def __call__(self, what: str, status: int) -> int:
        self.statuses.append((status, what))
        return status

    def server_errors(self) -> list[tuple[int, str]]:
        return [(status, what) for status, what in self.statuses if status >= 500]


def test_the_corpus_is_big_enough() -> None:
    assert len(PAYLOADS) >= 50 and len(set(PAYLOADS)) == len(PAYLOADS)


def test_usernames_and_passwords(app: FastAPI, services: Services) -> None:
    replies = Replies()
    for n, payload in enumerate(PAYLOADS):
        if n % 8 == 0:  # a fresh victim before the per-username failure limit locks it
            victim = new_username()
            services.accounts.register(victim, PASSWORD)
        client = caller(app, n)
        body = {"username": payload, "password": PASSWORD}
        created = replies(
            f"register {payload!r}", client.post("/api/auth/register", json=body).status_code
        )
        assert created == 422, payload  # never a valid name: the rule refuses it
        for name, password in (
            (payload, PASSWORD),
            (victim, payload),
            (f"{victim}{payload}", PASSWORD),
        ):
            data = {"username": name, "password": password}
            status = replies(
                f"login {name!r}", client.post("/api/auth/token", data=data).status_code
            )
            assert status == 401, (name, password)
    assert replies.server_errors() == []
    assert len(replies.statuses) == 4 * len(PAYLOADS)


def test_texts_and_history_filters(app: FastAPI, services: Services) -> None:
    username = new_username()
    services.accounts.register(username, PASSWORD)
    client = caller(app, 1000)
    token = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    headers = bearer(token.json()["access_token"])
    replies = Replies()
    scored = client.post("/api/predict", json={"texts": PAYLOADS}, headers=headers)
    assert replies("predict", scored.status_code) == 200
    assert [item["text"] for item in scored.json()["predictions"]] == PAYLOADS

    for payload in PAYLOADS:
        found = client.get(
            "/api/history", params={"search": payload, "limit": 200}, headers=headers
        )
        assert replies(f"search {payload!r}", found.status_code) == 200, payload
        texts = [item["text"] for item in found.json()["items"]]
        # Matches only texts that contain it literally: quotes, % and _ are just characters.
        assert payload in texts and all(payload.lower() in t.lower() for t in texts), payload
        for path in ("/api/history/export.csv", "/api/insights"):
            response = client.get(path, params={"search": payload}, headers=headers)
            assert replies(f"{path} {payload!r}", response.status_code) == 200
        for name in ("label", "source", "batch_id", "since", "until", "cursor"):
            response = client.get("/api/history", params={name: payload}, headers=headers)
            assert replies(f"{name}={payload!r}", response.status_code) == 422, (name, payload)
        gone = client.delete(f"/api/history/{quote(payload, safe='')}", headers=headers)
        assert replies(f"delete {payload!r}", gone.status_code) in (404, 405, 422)
    assert replies.server_errors() == []
    assert len(replies.statuses) == 1 + 10 * len(PAYLOADS)
    everything = client.get("/api/history", params={"limit": 200}, headers=headers).json()
    assert sorted(item["text"] for item in everything["items"]) == sorted(PAYLOADS)


def test_admin_event_filters(app: FastAPI, admin_name: str) -> None:
    client = caller(app, 1001)
    token = client.post("/api/auth/token", data={"username": admin_name, "password": PASSWORD})
    headers = bearer(token.json()["access_token"])
    replies = Replies()
    for payload in PAYLOADS:
        for name in ("event", "username", "client_ip"):
            params = {name: payload[:64]}
            response = client.get("/api/admin/auth-events", params=params, headers=headers)
            assert replies(f"{name}={payload!r}", response.status_code) == 200, params
            body = response.json()
            assert body["total"] == len(body["items"]) == 0 or name == "username", params
    assert replies.server_errors() == []
    assert len(replies.statuses) == 3 * len(PAYLOADS)


def test_csv_cells_headers_and_file_names(app: FastAPI, services: Services) -> None:
    username = new_username()
    services.accounts.register(username, PASSWORD)
    client = caller(app, 1002)
    token = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    headers = bearer(token.json()["access_token"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text", "' OR 1=1--", "'; DROP TABLE batches;--"])
    writer.writerows([payload, payload, payload] for payload in PAYLOADS)
    replies = Replies()
    batch_ids = []
    for n, payload in enumerate(PAYLOADS[:10]):
        files = {"file": (f"{payload}.csv", out.getvalue().encode(), "text/csv")}
        response = client.post(
            "/api/batch", files=files, data={"text_column": "text"}, headers=headers
        )
        assert replies(f"batch {payload!r}", response.status_code) == 202, response.text
        status_url = response.json()["status_url"]
        while (status := client.get(status_url, headers=headers)).json()["status"] in (
            "queued",
            "running",
        ):
            time.sleep(0.05)
        assert replies("status", status.status_code) == 200
        assert status.json()["status"] == "done", status.text
        batch_ids.append(status.json()["batch_id"])
        sent = Path(f"{payload}.csv").name.replace('"', "%22")  # httpx escapes quotes
        assert status.json()["filename"] == sent, n
    rows = client.get(
        "/api/history", params={"batch_id": batch_ids[0], "limit": 200}, headers=headers
    ).json()["items"]
    assert sorted(item["text"] for item in rows) == sorted(PAYLOADS)
    results = client.get(f"/api/batch/{batch_ids[0]}/results.csv", headers=headers)
    assert replies("results", results.status_code) == 200
    assert replies.server_errors() == []
    assert len(replies.statuses) == 21
