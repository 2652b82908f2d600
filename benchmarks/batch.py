"""Batch scoring end to end through the REST API: rows/s, share of time writing, peak RSS.

    python benchmarks/batch.py                       # SQLite, 100,000 short + 10,000 reviews
    python benchmarks/batch.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/batch.py --short-rows 20000 --review-rows 2000   # a quicker run

Starts `python app.py` in a child process on a fresh database (benchmarks/server.py: a
new SQLite file, or a new database on the PostgreSQL server given), registers a user,
uploads each generated CSV with `POST /api/batch` (202: a job, scored by the server's own
worker thread) and follows the job until it is done. Peak RSS is the server's VmHWM
(reset before each upload) minus its RSS when idle just before the upload. Prints a
Markdown table row per file. benchmarks/jobs.py measures standalone workers.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import describe
from benchmarks.server import add_model_cache_option, app_server, fresh_database

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


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


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
    rows = []
    with (
        fresh_database(args.postgres) as database,
        app_server(work, args.model_cache, database, MAX_UPLOAD_MB="200") as server,
        httpx.Client(base_url=server.url, timeout=3600) as client,
    ):
        pid = server.process.pid
        user = {"username": "bench_" + uuid.uuid4().hex[:8], "password": "bench password 1"}
        client.post("/api/auth/register", json=user).raise_for_status()
        token = client.post("/api/auth/token", data=user).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        backend = "PostgreSQL" if database else "SQLite"
        for label, n, path in files:
            # Reset the peak (VmHWM) so that start-up's model loading is not counted.
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            idle = rss_kb(pid, "VmRSS")
            start = time.perf_counter()
            with path.open("rb") as f:
                response = client.post(
                    "/api/batch", headers=headers, files={"file": (path.name, f)}
                )
            accepted = time.perf_counter() - start
            response.raise_for_status()
            status_url = response.json()["status_url"]
            while (body := client.get(status_url, headers=headers).json())["status"] in (
                "queued",
                "running",
            ):
                time.sleep(0.2)
            total = time.perf_counter() - start
            assert body["status"] == "done", body
            peak = rss_kb(pid, "VmHWM")
            row = (
                f"| {backend} | {label} | {n:,} | {total:,.1f} | {body['scored'] / total:,.0f} "
                f"| {accepted:,.2f} "
                f"| {idle / 1024:,.0f} | {peak / 1024:,.0f} | {(peak - idle) / 1024:,.0f} |"
            )
            print(row, flush=True)
            rows.append(row)
    return rows


HEADER = (
    "| Database | Texts | Rows | Total s | Rows/s | To the 202 s | Idle RSS MB "
    "| Peak RSS MB | Peak - idle MB |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-rows", type=int, default=100_000)
    parser.add_argument("--review-rows", type=int, default=10_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a fresh database is made")
    add_model_cache_option(parser)
    args = parser.parse_args()
    print(describe(what="server inference threads"))
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="sentiscope-bench-") as work:
        run(args, Path(work))


if __name__ == "__main__":
    main()
