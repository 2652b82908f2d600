"""Test helpers (importable as `tests.helpers`): factories, a fake clock, databases."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from settings import Settings, normalize_database_url

if TYPE_CHECKING:
    from services import Services

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key-0123456789abcdef0123456789"
PASSWORD = "correct horse battery"


def required(variable: str) -> bool:
    return os.environ.get(variable) == "1"


def skip_or_fail(variable: str, reason: str) -> None:
    """Skip, unless `variable`=1 says this part is required: then fail."""
    if required(variable):
        pytest.fail(f"{reason} ({variable}=1 makes this a failure, not a skip)")
    pytest.skip(reason)


class FakeClock:
    """An injectable clock that only moves when a test moves it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class FreshDatabase:
    url: str
    backend: str  # "sqlite" or "postgresql"


def fresh_database(tmp_dir: Path) -> Iterator[FreshDatabase]:
    """Yield a brand-new empty database and remove it afterwards."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        if required("REQUIRE_POSTGRES"):
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        yield FreshDatabase(f"sqlite:///{tmp_dir / 'test.db'}", "sqlite")
        return
    server = normalize_database_url(base)
    name = f"sentiscope_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        skip_or_fail("REQUIRE_POSTGRES", f"PostgreSQL at TEST_DATABASE_URL is unusable: {exc}")
    try:
        yield FreshDatabase(server.set(database=name).render_as_string(False), "postgresql")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "DATA_DIR": data_dir,
        # fp32 torch loads in a second and is cached per process; the ONNX path is
        # exercised by tests/sentiment.
        "SENTIMENT_BACKEND": "torch",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def new_username() -> str:
    return f"user_{uuid.uuid4().hex[:10]}"


def api_login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@contextmanager
def pool_checkouts(engine: Engine) -> Iterator[list[object]]:
    """The DBAPI connections the engine's pool hands out inside the block, in order."""
    seen: list[object] = []

    def record(dbapi_connection: object, _record: object, _proxy: object) -> None:
        seen.append(dbapi_connection)

    event.listen(engine, "checkout", record)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", record)


@contextmanager
def serving(services: Services) -> Iterator[str]:
    """The real app (REST + Gradio) over `services`, served by uvicorn on a free port in a
    thread; its base URL. Stopped when the block ends."""
    import uvicorn

    from app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(services.settings, services), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return make_url(url).render_as_string(False) if url else None


def stored_parts(services: Any, job_id: str) -> int:
    """A job's chunk rows plus its stored parts (database rows, or development files)."""
    from sqlalchemy import func, select

    from storage.models import BatchBlob, BatchChunk

    with services.db.session_scope() as session:
        chunks = session.scalar(select(func.count()).where(BatchChunk.job_id == job_id)) or 0
        blobs = session.scalar(select(func.count()).where(BatchBlob.job_id == job_id)) or 0
    files = len(list((services.settings.DATA_DIR / "batches").glob(f"user-*/job-{job_id}/*")))
    return int(chunks + blobs + files)
