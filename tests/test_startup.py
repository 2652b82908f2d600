"""Start-up: `python app.py` serves, logs one mode line, and stops fast with a clear
message (cause and fix, non-zero exit, under 15 s) when the database is wrong."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from services import build_services
from settings import GENERATE_KEY_COMMAND, Settings
from tests.helpers import ROOT, SECRET, free_port, make_settings, skip_or_fail

LIMIT_S = 15
LEAK = "hunter2secret"  # a password that must never be printed
MODE_LINE = re.compile(r"(Production|Development) mode: using ")


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float


def run_app(tmp_path: Path, **env: str) -> Run:
    """Run `python app.py` to completion with these settings in its environment."""
    environment = {**os.environ, "DATA_DIR": str(tmp_path), "PORT": str(free_port()), **env}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Run(done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def assert_stops_with(run: Run, *expected: str) -> None:
    assert run.returncode != 0, run.output
    assert run.seconds < LIMIT_S, f"took {run.seconds:.1f} s"
    (line,) = [line for line in run.output.splitlines() if "cannot start" in line]
    for text in expected:
        assert text in line, run.output
    assert "Fix" in line or "Generate one" in line or "Use postgresql://" in line
    assert LEAK not in run.output
    assert "Traceback" not in run.output


def test_malformed_url_stops_startup(tmp_path: Path) -> None:
    run = run_app(
        tmp_path, DATABASE_URL=f"postgresql://u:{LEAK}@db:notaport/app", SECRET_KEY=SECRET
    )
    assert_stops_with(run, "DATABASE_URL is malformed", "postgresql://USER:PASSWORD@HOST")


def test_unsupported_scheme_stops_startup(tmp_path: Path) -> None:
    run = run_app(tmp_path, DATABASE_URL=f"mysql://u:{LEAK}@db/app", SECRET_KEY=SECRET)
    assert_stops_with(run, "unsupported scheme 'mysql'")


def test_refused_connection_stops_startup(tmp_path: Path) -> None:
    url = f"postgresql://u:{LEAK}@127.0.0.1:{free_port()}/app"
    run = run_app(tmp_path, DATABASE_URL=url, SECRET_KEY=SECRET)
    assert_stops_with(run, "connection refused", "start PostgreSQL")


def test_unresolvable_host_stops_startup(tmp_path: Path) -> None:
    url = f"postgresql://u:{LEAK}@no-such-host.invalid:5432/app"
    run = run_app(tmp_path, DATABASE_URL=url, SECRET_KEY=SECRET)
    assert_stops_with(run, "'no-such-host.invalid'", "cannot be resolved")


@pytest.fixture
def silent_host() -> Iterator[int]:
    """A host that accepts TCP connections and never answers, like a black-holed server."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in held:
        connection.close()


def test_unreachable_host_stops_startup_within_the_limit(tmp_path: Path, silent_host: int) -> None:
    url = f"postgresql://u:{LEAK}@127.0.0.1:{silent_host}/app"
    run = run_app(tmp_path, DATABASE_URL=url, SECRET_KEY=SECRET)
    assert_stops_with(run, "did not answer", "DB_CONNECT_TIMEOUT")


@pytest.fixture(scope="module")
def password_postgres() -> Iterator[int]:
    """A throwaway PostgreSQL cluster that really checks passwords (scram-sha-256)."""
    initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdb:
        skip_or_fail("REQUIRE_POSTGRES", "PostgreSQL server binaries (initdb) are not installed")
    bindir = initdb[-1].parent
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="sentiscope-pg-"))
    (base / "pw").write_text("the-right-password\n")
    if as_postgres:
        for path in (base, base / "pw"):
            shutil.chown(path, "postgres")
    port = free_port()
    data = base / "data"
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "initdb"),
            *("-D", str(data), "-U", "owner", "--no-sync", "--auth=scram-sha-256"),
            f"--pwfile={base / 'pw'}",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1"
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run([*pg_ctl, "-o", options, "-l", str(base / "log"), "-w", "start"], check=True)
    yield port
    subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.postgres
def test_wrong_password_stops_startup(tmp_path: Path, password_postgres: int) -> None:
    url = f"postgresql://owner:{LEAK}@127.0.0.1:{password_postgres}/postgres"
    run = run_app(tmp_path, DATABASE_URL=url, SECRET_KEY=SECRET)
    assert_stops_with(run, "rejected the password for user 'owner'", "correct the user name")


@pytest.mark.postgres
def test_missing_database_stops_startup(tmp_path: Path) -> None:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        skip_or_fail("REQUIRE_POSTGRES", "TEST_DATABASE_URL is not set")
    url = make_url(server).set(database="sentiscope_no_such_db", password=LEAK)
    run = run_app(tmp_path, DATABASE_URL=url.render_as_string(False), SECRET_KEY=SECRET)
    assert_stops_with(run, "'sentiscope_no_such_db' does not exist", "createdb")


@pytest.mark.parametrize("secret_key", ["", SECRET], ids=["generated key", "given key"])
def test_unusable_data_dir_stops_startup(tmp_path: Path, secret_key: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    run = run_app(tmp_path, DATA_DIR=str(blocker / "data"), SECRET_KEY=secret_key)
    assert_stops_with(run, str(blocker / "data"), "DATA_DIR")


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    run = run_app(tmp_path, DATABASE_URL="postgresql://u@127.0.0.1/app", SECRET_KEY="too-short")
    assert_stops_with(run, "at least 32", GENERATE_KEY_COMMAND)


def test_one_mode_line_without_the_password(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.DATABASE_URL is not None
    url = make_url(settings.DATABASE_URL)
    if url.get_backend_name() != "sqlite":
        # PostgreSQL in CI trusts local connections, so any password gets in.
        url = url.set(password=LEAK)
    with_password = make_settings(url.render_as_string(False), settings.DATA_DIR)
    with caplog.at_level(logging.INFO):
        build_services(with_password).close()
    lines = [record.getMessage() for record in caplog.records]
    (mode,) = [line for line in lines if MODE_LINE.match(line)]
    assert mode.startswith("Production mode: using ")
    assert LEAK not in caplog.text


def test_development_mode_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        build_services(Settings(_env_file=None, DATA_DIR=tmp_path)).close()  # type: ignore[call-arg]
    modes = [r.getMessage() for r in caplog.records if MODE_LINE.match(r.getMessage())]
    assert modes == [f"Development mode: using SQLite at {tmp_path}/sentiscope.db"]


def test_python_app_py_serves_on_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    environment = {**os.environ, "DATA_DIR": str(tmp_path), "HOST": "127.0.0.1", "PORT": str(port)}
    with subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            health = wait_for_json(f"http://127.0.0.1:{port}/healthz", process)
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text
        finally:
            process.terminate()
            output, _ = process.communicate(timeout=20)
    assert re.fullmatch(r'\{"status":"ok","database":"ok","model":"bundled-[0-9a-f]{12}"\}', health)
    assert "gradio" in page.lower()  # the Gradio front end is served at /
    assert len([line for line in output.splitlines() if MODE_LINE.search(line)]) == 1
    assert f"Open http://127.0.0.1:{port}; API docs at /docs" in output
    assert "SECRET_KEY is not set" in output
    assert (tmp_path / "secret_key").exists()


def wait_for_json(url: str, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited early: {process.stdout.read() if process.stdout else ''}")
        try:
            return httpx.get(url, timeout=2).text
        except httpx.HTTPError:
            time.sleep(0.25)
    pytest.fail("app.py did not start serving within 60 s")


def test_importing_app_starts_nothing(tmp_path: Path) -> None:
    code = "import app, sys, threading; print(threading.active_count(), 'gradio' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]  # no server thread, UI not even imported
    assert list(tmp_path.iterdir()) == []  # no data directory, no database


@pytest.mark.parametrize(
    ("host", "line"),
    [
        ("0.0.0.0", "http://localhost:7860 (listening on all interfaces)"),  # noqa: S104
        ("::", "http://localhost:7860 (listening on all interfaces)"),
        ("127.0.0.1", "http://127.0.0.1:7860"),
        ("::1", "http://[::1]:7860"),
        ("sentiscope.example", "http://sentiscope.example:7860"),
    ],
)
def test_start_up_names_the_address_to_open(host: str, line: str) -> None:
    from app import serving_line

    assert serving_line(host, 7860) == line
