"""Real processes for the multi-process tests: `python app.py` web replicas, `python app.py
worker`s and HAProxy, each with its own log file, all stopped by `Processes.close`.

Every process of a test session shares one ONNX model cache (`shared_model_cache`), so the
export happens once; the processes run with one inference thread each (the test machines
are small and shared).
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings
from tests.helpers import PASSWORD, ROOT, SECRET, free_port, new_username, skip_or_fail

START_S = 180  # a cold start on a busy 2-core machine: imports, migrations, the model
HAPROXY = os.environ.get("HAPROXY_PATH", "/usr/sbin/haproxy")


def clean_environment(**env: str) -> dict[str, str]:
    """The test's environment without any Sentiscope setting, plus `env`."""
    base = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return {**base, "PYTHONUNBUFFERED": "1", **env}


def shared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MODEL_CACHE_DIR for the whole session, exported once by `prepare-model`."""
    cache = tmp_path_factory.getbasetemp() / "shared-model-cache"
    ready = cache / ".ready"
    if not ready.exists():
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "prepare-model"],
            cwd=cache,
            env=clean_environment(
                DATA_DIR=str(cache / "data"),
                MODEL_CACHE_DIR=str(cache),
                SENTIMENT_BACKEND="onnx-int8",
            ),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        ready.touch()
    return cache


class Process:
    """One started process; its stdout and stderr go to `log_path`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path,
                 port: int | None = None) -> None:  # fmt: skip
        self.name = name
        self.port = port
        self.log_path = log_path
        self.env = env
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    @property
    def url(self) -> str:
        assert self.port is not None
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name} (pid {self.pid}) log ---\n" + "\n".join(
            self.log().splitlines()[-lines:]
        )

    def wait_for_log(self, pattern: str, timeout: float = START_S) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log())
            if found:
                return found
            if not self.alive():
                pytest.fail(f"{self.name} exited ({self.popen.returncode})\n{self.tail()}")
            time.sleep(0.2)
        pytest.fail(f"{self.name} never logged {pattern!r}\n{self.tail()}")

    def wait_healthy(self, timeout: float = START_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                pytest.fail(f"{self.name} exited ({self.popen.returncode})\n{self.tail()}")
            try:
                answer = httpx.get(f"{self.url}/healthz", timeout=2)
                if answer.status_code == 200 and answer.json().get("status") == "ok":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"{self.name} did not become healthy\n{self.tail()}")

    def send(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL (the process and anything it started)."""
        if self.alive():
            self.popen.terminate()
            if self.wait_exit(timeout) is None:
                self.kill()
        self._log.close()

    def kill(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)


class Processes:
    """What a fixture starts; `close` stops every process it started, newest first."""

    def __init__(self, root: Path, database_url: str, model_cache: Path, **env: str) -> None:
        self.root = root
        self.database_url = database_url
        self.model_cache = model_cache
        self.env = env  # settings every process of this fixture gets
        self.started: list[Process] = []

    def settings_env(self, data_dir: Path, **env: str) -> dict[str, str]:
        data_dir.mkdir(parents=True, exist_ok=True)
        return clean_environment(
            DATABASE_URL=self.database_url,
            SECRET_KEY=SECRET,
            DATA_DIR=str(data_dir),
            HOST="127.0.0.1",
            SENTIMENT_BACKEND="onnx-int8",
            MODEL_CACHE_DIR=str(self.model_cache),
            SENTIMENT_THREADS="1",
            REGISTRATIONS_PER_IP="10000",
            LOG_LEVEL="INFO",
            **{**self.env, **env},
        )

    def web(self, name: str, *, data_dir: Path | None = None, port: int | None = None,
            **env: str) -> Process:  # fmt: skip
        """Start `python app.py` (not waited for: see `ready`)."""
        port = port or free_port()
        folder = data_dir or self.root / name
        environment = self.settings_env(folder, PORT=str(port), **env)
        return self._start(name, [sys.executable, str(ROOT / "app.py")], environment, port)

    def worker(self, name: str, concurrency: int = 1, **env: str) -> Process:
        """Start `python app.py worker` (not waited for: see `ready`)."""
        argv = [sys.executable, str(ROOT / "app.py"), "worker", "--concurrency", str(concurrency)]
        return self._start(name, argv, self.settings_env(self.root / name, **env), None)

    def haproxy(self, name: str, backends: Iterable[tuple[str, int]]) -> Process:
        """HAProxy in front of `backends` ((name, port)...), from a generated config."""
        if not (os.path.exists(HAPROXY) or shutil.which(HAPROXY)):
            skip_or_fail("REQUIRE_HAPROXY", f"HAProxy is not installed at {HAPROXY}")
        port = free_port()
        config = self.root / f"{name}.cfg"
        config.write_text(haproxy_config(port, backends), encoding="utf-8")
        check = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        return self._start(name, [HAPROXY, "-db", "-f", str(config)], dict(os.environ), port)

    def _start(self, name: str, argv: list[str], env: dict[str, str], port: int | None) -> Process:
        self.root.mkdir(parents=True, exist_ok=True)
        process = Process(name, argv, env, self.root / f"{name}.log", port)
        self.started.append(process)
        return process

    def ready(self, *processes: Process) -> None:
        """Wait until each web process answers /healthz and each worker is taking jobs."""
        for process in processes:
            if process.name.startswith("haproxy"):
                continue
            if process.port is None:
                process.wait_for_log(r"Starting worker on")
            else:
                process.wait_healthy()

    def tails(self) -> str:
        return "\n".join(p.tail() for p in self.started)

    def close(self) -> None:
        for process in reversed(self.started):
            process.stop(timeout=15)


def haproxy_config(port: int, backends: Iterable[tuple[str, int]]) -> str:
    """The configuration docs/scaling.md shows: round robin, cookie affinity, health checks."""
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{backend} check cookie {name}" for name, backend in backends
    )
    return f"""global
    maxconn 1024

defaults
    mode http
    option httplog
    option forwardfor
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-request 30s

frontend sentiscope
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    cookie SERVERID insert indirect nocache
    option httpchk GET /healthz
    http-check expect status 200
{servers}
"""


# REST -----------------------------------------------------------------------------------


class Api:
    """A user's REST session against one base URL (a replica, or the load balancer)."""

    def __init__(self, base: str, token: str, username: str) -> None:
        self.base = base
        self.token = token
        self.username = username
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    @classmethod
    def new_user(cls, base: str) -> Api:
        username = new_username()
        created = httpx.post(
            f"{base}/api/auth/register",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        return cls.login(base, username)

    @classmethod
    def login(cls, base: str, username: str) -> Api:
        answer = httpx.post(
            f"{base}/api/auth/token",
            data={"username": username, "password": PASSWORD},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return cls(base, answer.json()["access_token"], username)

    def on(self, base: str) -> Api:
        """The same user (same token) against another base URL."""
        return Api(base, self.token, self.username)

    def user_id(self) -> int:
        answer = self.http.get("/api/auth/me")
        assert answer.status_code == 200, answer.text
        return int(answer.json()["id"])

    def submit(self, path: Path) -> dict[str, Any]:
        with path.open("rb") as f:
            answer = self.http.post("/api/batch", files={"file": (path.name, f, "text/csv")})
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def job(self, job_id: str | int) -> dict[str, Any]:
        answer = self.http.get(f"/api/batch/{job_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait(self, job_id: str, until: Callable[[dict[str, Any]], bool], timeout: float,
             explain: Callable[[], str] = str) -> dict[str, Any]:  # fmt: skip
        """Poll the job until `until(job)`; fail (with `explain()`) after `timeout`."""
        deadline = time.monotonic() + timeout
        job = self.job(job_id)
        while not until(job):
            if time.monotonic() > deadline:
                pytest.fail(f"job {job_id} is still {job['status']} {job['progress']}\n"
                            f"{explain()}")  # fmt: skip
            if job["status"] in ("failed", "cancelled") and not until(job):
                pytest.fail(f"job {job_id} ended {job['status']}: {job['error']}\n{explain()}")
            time.sleep(0.25)
            job = self.job(job_id)
        return job

    def wait_done(self, job_id: str, timeout: float, explain: Callable[[], str] = str
                  ) -> dict[str, Any]:  # fmt: skip
        return self.wait(job_id, lambda job: job["status"] == "done", timeout, explain)

    def download(self, batch_id: int) -> bytes:
        answer = self.http.get(f"/api/batch/{batch_id}/results.csv")
        assert answer.status_code == 200, answer.text
        return answer.content

    def history_count(self, batch_id: int) -> int:
        """Rows of the batch in the user's history, counted page by page."""
        count, cursor = 0, None
        while True:
            params: dict[str, Any] = {"batch_id": batch_id, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            answer = self.http.get("/api/history", params=params)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            count += len(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return count


# Files ----------------------------------------------------------------------------------

SHORT = "review {i}: the product was really great, I liked it"
# About 360 characters: a 128-row pass takes a few seconds on one core of a small machine.
LONG = (
    "review {i}: I ordered this after reading many reviews and I have mixed feelings. "
    "The delivery was late by three days, the box was damaged, and support took a week to "
    "answer my first message. On the other hand the product itself works as described, "
    "the battery lasts long, and the build quality is better than I expected for the price."
)


def write_csv(path: Path, rows: int, text: str = SHORT) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "comment"])
        writer.writerows([i, text.format(i=i)] for i in range(rows))
    return path


def result_ids(data: bytes) -> list[str]:
    """The `id` column of a results CSV, in file order."""
    text = data.decode("utf-8-sig")
    return [row["id"] for row in csv.DictReader(text.splitlines())]
