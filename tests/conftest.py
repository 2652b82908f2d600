"""Shared fixtures: a fresh database per test module (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), settings, services, a TestClient and a live server."""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from services import Services, build_services
from settings import Settings
from tests.helpers import (
    PASSWORD,
    SECRET,
    FakeClock,
    FreshDatabase,
    fresh_database,
    make_settings,
    new_username,
    serving,
    skip_or_fail,
)


def pytest_configure(config: pytest.Config) -> None:
    # Tests pass every setting explicitly; a developer's environment must not leak in.
    for name in Settings.model_fields:
        os.environ.pop(name, None)
    scanner = SecretScanner()
    config.stash[SECRET_SCAN] = scanner
    scanner.attach()


# Secrets never reach a log line: every record of the whole session is scanned for the
# test SECRET_KEY, the passwords tests use, login JWTs, personal API tokens and password
# hashes; the session fails at the end if one was found. Only hits are kept.
SECRET_PATTERNS = {
    "a JWT": re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"),
    "a personal API token": re.compile(r"sst_[\w-]{16,}"),
    "a password hash": re.compile(r"\$argon2(?:id|i|d)\$"),
}
CANARY_SECRETS = {
    "the test SECRET_KEY": SECRET,
    "the test password": PASSWORD,
    **{
        f"test password {n}": value
        for n, value in enumerate(
            (
                "a changed passphrase",
                "a fresh passphrase",
                "a new passphrase",
                "next secret passphrase",
                "canary-password-5c1e",
                "canary-password-7f3a",
            )
        )
    },
}
# Loggers that do not propagate to the root once uvicorn has configured them.
SCANNED_LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error")
SECRET_SCAN = pytest.StashKey["SecretScanner"]()


def secrets_in(text: str) -> list[str]:
    """Which canaries or secret-shaped strings `text` contains."""
    found = [what for what, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    return found + [what for what, value in CANARY_SECRETS.items() if value in text]


class SecretScanner(logging.Handler):
    """A handler on the root (and uvicorn's) loggers that checks every formatted record."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records = 0
        self.hits: list[str] = []

    def attach(self) -> None:
        """(Re)attach: uvicorn's dictConfig drops the handlers of the loggers it configures."""
        root = logging.getLogger()
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)  # the app logs at INFO; those lines count too
        for name in SCANNED_LOGGERS:
            logger = logging.getLogger(name)
            if self not in logger.handlers:
                logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "_secret_scanned", False):
            return  # seen through another logger already
        record._secret_scanned = True
        self.records += 1
        try:
            text = self.format(record)
        except Exception:  # a broken record must not hide what it carried
            text = f"{record.msg!r} {record.args!r}"
        for what in secrets_in(text):
            self.hits.append(
                f"{what} in a {record.levelname} record of {record.name!r} "
                f"({record.pathname}:{record.lineno}): {redacted(text)[:300]!r}"
            )


def redacted(text: str) -> str:
    """`text` with every secret replaced, so the report does not repeat the leak."""
    for pattern in SECRET_PATTERNS.values():
        text = pattern.sub("<secret>", text)
    for value in CANARY_SECRETS.values():
        text = text.replace(value, "<secret>")
    return text


@pytest.fixture(autouse=True)
def _scan_logs_for_secrets(request: pytest.FixtureRequest) -> None:
    request.config.stash[SECRET_SCAN].attach()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    scanner = session.config.stash.get(SECRET_SCAN, None)
    if scanner is None or not scanner.hits:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(scanner.hits)} log record(s) of {scanner.records} carried a secret:"]
    lines += [f"  {hit}" for hit in scanner.hits[:50]]
    if reporter is not None:
        reporter.write_sep("=", "secrets in the logs: the session fails", red=True)
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
def clock() -> FakeClock:
    """A clock this module moves by hand (two-factor codes, token expiry)."""
    return FakeClock()


@pytest.fixture(scope="module")
def timed(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    """Services on `clock`; a module serves its app on them by overriding `services`."""
    built = build_services(settings, clock=clock)
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
def live_server(services: Services) -> Iterator[str]:
    """The real app (REST + Gradio) served by uvicorn on a free port, in a thread."""
    with serving(services) as url:
        yield url


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
