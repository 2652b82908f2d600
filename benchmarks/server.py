"""The server a benchmark drives: `python app.py` in a child process, on a fresh database.

    with fresh_database(args.postgres) as database:
        with app_server(work, model_cache, database, MAX_UPLOAD_MB="200") as server:
            httpx.get(f"{server.url}/healthz")

The child listens on a free port of 127.0.0.1 with a temporary DATA_DIR (its SQLite file,
unless a database is given) and writes its log to `work/server.log`. A PostgreSQL server
URL gets a new database of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 600  # seconds: the first start exports the ONNX model
MODEL_CACHE = Path.home() / ".cache" / "sentiscope-bench-models"


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_tail(self, characters: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_model_cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model-cache",
        type=Path,
        default=MODEL_CACHE,
        help="where the exported ONNX model is kept between runs",
    )


@contextmanager
def fresh_database(
    server_url: str | None, prefix: str = "sentiscope_bench"
) -> Iterator[str | None]:
    """The URL of a new database on the PostgreSQL server `server_url`, dropped afterwards.

    Without a server URL: None, for the SQLite file in DATA_DIR.
    """
    if server_url is None:
        yield None
        return
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _on_server(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(False)
    finally:
        _on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def app_server(
    work: Path, model_cache: Path, database: str | None = None, **settings: str
) -> Iterator[Server]:
    """`python app.py` started and healthy; `settings` are extra environment variables."""
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(work / "data"),
        "SECRET_KEY": "bench-" + "k" * 40,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "MODEL_CACHE_DIR": str(model_cache),
        **settings,
    }
    if database:
        env["DATABASE_URL"] = database
    work.mkdir(parents=True, exist_ok=True)
    log = work / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if httpx.get(f"{server.url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start:\n" + server.log_tail())
        time.sleep(0.5)


def _on_server(server_url: str, statement: str) -> None:
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(statement))
    admin.dispose()


@contextmanager
def worker_process(work: Path, model_cache: Path, database: str) -> Iterator[Server]:
    """`python app.py worker`, returned once it is registered (its model loaded)."""
    env = {
        **os.environ,
        "DATA_DIR": str(work / "worker-data"),
        "SECRET_KEY": "bench-" + "k" * 40,
        "LOG_LEVEL": "WARNING",
        "MODEL_CACHE_DIR": str(model_cache),
        "DATABASE_URL": database,
    }
    from storage.urls import normalize_database_url

    work.mkdir(parents=True, exist_ok=True)
    log = work / f"worker-{uuid.uuid4().hex[:6]}.log"
    engine = create_engine(normalize_database_url(database))
    with engine.connect() as connection:
        before = connection.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py", "worker"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = Server(process, "", log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with engine.connect() as connection:
                count = connection.execute(
                    text("SELECT count(*) FROM procrastinate_workers")
                ).scalar_one()
            if count > before:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the worker did not start:\n" + worker.log_tail())
            time.sleep(0.5)
        yield worker
    finally:
        engine.dispose()
        process.terminate()
        process.wait(timeout=30)
