"""Shared fixtures: a fresh database per test module (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), settings, services, a TestClient and a live server."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from services import Services, build_services
from settings import Settings
from tests.helpers import (
    PASSWORD,
    FreshDatabase,
    free_port,
    fresh_database,
    make_settings,
    new_username,
    skip_or_fail,
)


def pytest_configure(config: pytest.Config) -> None:
    # Tests pass every setting explicitly; a developer's environment must not leak in.
    for name in Settings.model_fields:
        os.environ.pop(name, None)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshDatabase]:
    yield from fresh_database(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="module")
def settings(database: FreshDatabase, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database.url, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture(scope="module")
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(settings, services)) as test_client:
        yield test_client


@pytest.fixture
def user(services: Services) -> tuple[str, str]:
    """A freshly registered (username, password)."""
    username = new_username()
    services.accounts.register(username, PASSWORD)
    return username, PASSWORD


@pytest.fixture(scope="module")
def live_server(settings: Settings, services: Services) -> Iterator[str]:
    """The real app (REST + Gradio) served by uvicorn on a free port, in a thread."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        create_app(settings, services), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless Chromium through Playwright (never `playwright install`)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        skip_or_fail("REQUIRE_BROWSER", f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
