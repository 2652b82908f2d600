"""Batch scoring end to end through the REST API: rows/s, share of time writing, peak RSS.

    python benchmarks/batch.py                       # SQLite, 100,000 short + 10,000 reviews
    python benchmarks/batch.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/batch.py --short-rows 20000 --review-rows 2000   # a quicker run

Starts `python app.py` in a child process on a fresh database (a new SQLite file, or a
new database on the PostgreSQL server given), registers a user, uploads each generated
CSV with `POST /api/batch` and waits for the answer. Peak RSS is the server's VmHWM
(reset before each upload) minus its RSS when idle just before the upload. Prints a
Markdown table row per file.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from machine import describe
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    *("good", "bad", "great", "awful", "fine", "okay", "love", "hate", "slow", "fast"),
    *("broken", "perfect", "cheap", "price", "delivery", "service", "staff", "food"),
    *("room", "screen", "battery", "quality", "support", "refund", "again", "never"),
]


def short_texts(n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choices(WORDS, k=rng.randint(3, 9))) for _ in range(n)]


def review_texts(n: int, rng: random.Random) -> list[str]:
    def review() -> str:
        sentences = [
            " ".join(rng.choices(WORDS, k=rng.randint(8, 16))).capitalize() + "."
            for _ in range(rng.randint(6, 12))
        ]
        return " ".join(sentences)

    return [review() for _ in range(n)]


def write_csv(path: Path, texts: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "review", "stars"])
        for i, t in enumerate(texts):
            writer.writerow([i, t, 1 + i % 5])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def fresh_postgres(server_url: str) -> tuple[str, str]:
    name = f"sentiscope_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(False), name


def drop_postgres(server_url: str, name: str) -> None:
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(args: argparse.Namespace, work: Path) -> list[str]:
    rng = random.Random(7)
    files = []
    for label, n, make in (
        ("short", args.short_rows, short_texts),
        ("review", args.review_rows, review_texts),
    ):
        if n:
            path = work / f"{label}-{n}.csv"
            write_csv(path, make(n, rng))
            files.append((label, n, path))
    database, dropped = (None, None)
    if args.postgres:
        database, dropped = fresh_postgres(args.postgres)
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(work / "data"),
        "SECRET_KEY": "bench-" + "k" * 40,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "MAX_UPLOAD_MB": "200",
        "MODEL_CACHE_DIR": str(args.model_cache),
    }
    if database:
        env["DATABASE_URL"] = database
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        with httpx.Client(base_url=base, timeout=3600) as client:
            deadline = time.monotonic() + 600
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
            user = {"username": "bench_" + uuid.uuid4().hex[:8], "password": "bench password 1"}
            client.post("/api/auth/register", json=user).raise_for_status()
            token = client.post("/api/auth/token", data=user).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            backend = "PostgreSQL" if database else "SQLite"
            for label, n, path in files:
                # Reset the peak (VmHWM) so that start-up's model loading is not counted.
                Path(f"/proc/{server.pid}/clear_refs").write_text("5")
                idle = rss_kb(server.pid, "VmRSS")
                start = time.perf_counter()
                with path.open("rb") as f:
                    response = client.post(
                        "/api/batch", headers=headers, files={"file": (path.name, f)}
                    )
                total = time.perf_counter() - start
                response.raise_for_status()
                body = response.json()
                peak = rss_kb(server.pid, "VmHWM")
                row = (
                    f"| {backend} | {label} | {n:,} | {total:,.1f} | {body['scored'] / total:,.0f} "
                    f"| {body['write_s']:,.2f} ({body['write_s'] / total:.1%}) "
                    f"| {idle / 1024:,.0f} | {peak / 1024:,.0f} | {(peak - idle) / 1024:,.0f} |"
                )
                print(row, flush=True)
                rows.append(row)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.postgres and dropped:
            drop_postgres(args.postgres, dropped)
    return rows


HEADER = (
    "| Database | Texts | Rows | Total s | Rows/s | Writing s (share) | Idle RSS MB "
    "| Peak RSS MB | Peak - idle MB |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-rows", type=int, default=100_000)
    parser.add_argument("--review-rows", type=int, default=10_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a fresh database is made")
    parser.add_argument(
        "--model-cache",
        type=Path,
        default=Path.home() / ".cache" / "sentiscope-bench-models",
        help="where the exported ONNX model is kept between runs",
    )
    args = parser.parse_args()
    print(describe(what="server inference threads"))
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="sentiscope-bench-") as work:
        run(args, Path(work))


if __name__ == "__main__":
    main()
