"""The operator's commands, run as an operator would: `python app.py <command>`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ops.cli import build_parser, run
from settings import Settings
from tests.helpers import PASSWORD, ROOT, free_port

COMMANDS = [
    "serve",
    "migrate",
    "check",
    "create-admin",
    "generate-secret",
    "backup",
    "restore",
    "prepare-model",
]
KEY = "0123456789abcdef" * 4
REFUSED_URL = "postgresql://sentiscope:hunter2secret@127.0.0.1:1/sentiscope"


def app(
    tmp_path: Path, *args: str, stdin: str | None = None, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python app.py ARGS` in a clean environment (no developer settings, no .env)."""
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    environment = {**clean, "DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        cwd=tmp_path,
        env=environment,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_every_command(tmp_path: Path) -> None:
    done = app(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\b", done.stdout, re.M), command


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert f"python app.py {command}" in capsys.readouterr().out


def test_serve_is_the_default() -> None:
    assert run([], serve=lambda: 42) == 42
    assert run(["serve"], serve=lambda: 7) == 7


def test_generate_secret_prints_64_hex_characters(tmp_path: Path) -> None:
    first, second = (app(tmp_path, "generate-secret").stdout.strip() for _ in range(2))
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert first != second


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    done = app(tmp_path, "migrate")
    assert done.returncode == 0, done.stderr
    assert "is at the latest schema revision" in done.stdout
    assert (tmp_path / "data" / "sentiscope.db").is_file()


def test_check_on_a_healthy_development_setup(tmp_path: Path) -> None:
    done = app(tmp_path, "check", SENTIMENT_BACKEND="torch")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Development mode: using SQLite" in done.stdout
    assert re.search(r"\[ ok \] database +reachable in \d+ ms", done.stdout)
    assert re.search(r"\[ ok \] model +bundled-\w+ \(torch, \d+ threads\) loaded in", done.stdout)
    assert "Result: ready" in done.stdout
    assert not (tmp_path / "data" / "secret_key").exists(), "check must not change anything"


def test_check_reports_an_unreachable_database(tmp_path: Path) -> None:
    done = app(
        tmp_path,
        "check",
        DATABASE_URL=REFUSED_URL,
        SECRET_KEY=KEY,
        SENTIMENT_MODEL=str(tmp_path / "no-model"),
    )
    assert done.returncode == 1
    assert "Production mode: using PostgreSQL at 127.0.0.1:1/sentiscope" in done.stdout
    assert re.search(r"\[FAIL\] database +Cannot connect .*connection refused", done.stdout)
    assert re.search(r"\[FAIL\] model +SENTIMENT_MODEL names the folder", done.stdout)
    assert "[ ok ] secret key SECRET_KEY set, 64 characters" in done.stdout
    assert "Result: NOT READY (2 failed" in done.stdout
    assert "hunter2secret" not in done.stdout + done.stderr


def test_check_reports_a_short_secret_key_in_production(tmp_path: Path) -> None:
    done = app(tmp_path, "check", DATABASE_URL=REFUSED_URL, SECRET_KEY="short")
    assert done.returncode == 1
    assert re.search(r"\[FAIL\] settings +SECRET_KEY has only 5 characters", done.stdout)
    assert "Generate one with" in done.stdout


def test_check_on_postgresql_names_the_ssl_mode(tmp_path: Path) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("needs TEST_DATABASE_URL")
    done = app(
        tmp_path,
        "check",
        DATABASE_URL=url + ("&" if "?" in url else "?") + "sslmode=disable",
        SECRET_KEY=KEY,
        SENTIMENT_BACKEND="torch",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sslmode=disable, connection not encrypted" in done.stdout


def test_create_admin_reads_the_password_from_stdin(tmp_path: Path) -> None:
    done = app(tmp_path, "create-admin", "root_admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "Created the admin root_admin" in done.stdout
    again = app(tmp_path, "create-admin", "root_admin", "--password-stdin", stdin="ignored\n")
    assert again.returncode == 0, again.stderr
    assert "already existed and is now an admin" in again.stdout


def test_create_admin_reads_the_password_from_an_environment_variable(tmp_path: Path) -> None:
    done = app(tmp_path, "create-admin", "env_admin", "--password-env", "NEW_PW", NEW_PW=PASSWORD)
    assert done.returncode == 0, done.stderr


def test_create_admin_never_takes_the_password_from_arguments(tmp_path: Path) -> None:
    done = app(tmp_path, "create-admin", "someone", PASSWORD)
    assert done.returncode == 2  # argparse: unrecognized argument
    no_tty = app(tmp_path, "create-admin", "someone")
    assert no_tty.returncode == 1
    assert no_tty.stderr.startswith("python app.py create-admin: There is no terminal")
    assert no_tty.stderr.count("\n") == 1, "one paragraph"
    assert not (tmp_path / "data").exists(), "refused before touching anything"


def test_create_admin_explains_a_weak_password(tmp_path: Path) -> None:
    done = app(tmp_path, "create-admin", "weak_admin", "--password-stdin", stdin="short\n")
    assert done.returncode == 1
    assert "Passwords must be 8 to 128 characters long" in done.stderr


def test_backup_then_restore_into_an_empty_database(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    app(source, "create-admin", "keeper", "--password-stdin", stdin=PASSWORD)
    file = tmp_path / "backup.jsonl"
    done = app(source, "backup", str(file))
    assert done.returncode == 0, done.stderr
    assert "Backed up 1 users" in done.stdout
    target = tmp_path / "target"
    target.mkdir()
    restored = app(target, "restore", str(file))
    assert restored.returncode == 0, restored.stderr
    assert "Restored 1 users, 1 auth_events" in restored.stdout
    again = app(target, "restore", str(file))
    assert again.returncode == 1
    assert "restore only goes into an empty database" in again.stderr


def test_backup_of_a_missing_database_and_restore_of_a_missing_file(tmp_path: Path) -> None:
    done = app(tmp_path, "backup", str(tmp_path / "b.jsonl"))
    assert done.returncode == 1
    assert "There is no database at" in done.stderr
    missing = app(tmp_path, "restore", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 1
    assert "There is no backup file at" in missing.stderr


@pytest.mark.slow
def test_server_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env = {**clean, "DATA_DIR": str(tmp_path), "PORT": str(port), "SENTIMENT_BACKEND": "torch"}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the server did not come up: {server.communicate()[0]}")
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    # uvicorn shuts down (lifespan included), then re-raises SIGTERM: exit status 143.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "Finished server process" in output
