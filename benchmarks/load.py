"""Load test: many users at once over REST and the Gradio queue; latency, rows/s, errors.

    python benchmarks/load.py                            # 50 users for 120 s, SQLite
    python benchmarks/load.py --users 5 --duration 10    # smoke run
    python benchmarks/load.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Starts `python app.py` in a child process (benchmarks/server.py: a free port, a temporary
DATA_DIR, a new SQLite file or a new database on the PostgreSQL server given, dropped
afterwards). Each
simulated user registers, logs in, then loops until the time is up, picking at random:
predict over REST (most calls), a History page (following `next_cursor`), a predict
through the Gradio queue (`/gradio_api/call/predict`, as gradio_client does), Insights,
and now and then a small CSV batch. Then a burst of `--burst` Gradio calls at once
overfills the queue: the ones past its limit must get the quick "busy" answer (HTTP 503),
never a long wait or a server error.

Prints per operation: calls, failures, p50/p95/p99 latency; requests by status; texts
scored per second; 5xx replies (0 expected; the queue's busy 503s are counted apart).
Exits 1 if there was any server error.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cpu_split import CpuSnapshot
from benchmarks.load_report import BUSY, Stats, report
from benchmarks.server import add_model_cache_option, app_server, fresh_database

PASSWORD = "load test password 1"  # noqa: S105 - throwaway accounts on a temp database
WORDS = [
    *("good", "bad", "great", "awful", "fine", "okay", "love", "hate", "slow", "fast"),
    *("broken", "perfect", "cheap", "price", "delivery", "service", "staff", "food"),
]
# Operation -> weight in a user's mix.
MIX = {"predict": 60, "history": 20, "gradio_predict": 10, "insights": 5, "batch": 5}


def parse_mix(text: str) -> dict[str, int]:
    mix = {op: int(weight) for op, weight in (part.split("=") for part in text.split(","))}
    unknown = set(mix) - set(MIX)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown operations {sorted(unknown)}; use {list(MIX)}")
    return mix


def words(rng: random.Random, low: int = 3, high: int = 12) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def small_csv(rng: random.Random, rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "review"])
    writer.writerows([i, words(rng)] for i in range(rows))
    return out.getvalue().encode()


async def timed(
    stats: Stats, op: str, call: Awaitable[httpx.Response], *, expect: int = 200
) -> httpx.Response | None:
    """Await `call`; record latency and status. The response, if it has status `expect`."""
    start = time.perf_counter()
    try:
        response = await call
    except httpx.HTTPError as exc:  # a timeout or a dropped connection counts as status 0
        stats.record(op, time.perf_counter() - start, 0, False, repr(exc))
        return None
    ok = response.status_code == expect
    stats.record(op, time.perf_counter() - start, response.status_code, ok, response.text)
    return response if ok else None


async def gradio_predict(
    client: httpx.AsyncClient, texts: list[str], token: str
) -> tuple[int, str, list[object] | None]:
    """One `/predict` call through the Gradio queue: join, then read the event stream."""
    joined = await client.post("/gradio_api/call/predict", json={"data": [texts, token]})
    if joined.status_code != 200:
        return joined.status_code, joined.text, None
    event_id = joined.json()["event_id"]
    async with client.stream("GET", f"/gradio_api/call/predict/{event_id}") as stream:
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = line.split(":", 1)[1].strip()
                if event == "complete":
                    return 200, data, json.loads(data)
                return 200, f"event: error {data}", None
    return 200, "the event stream ended without a result", None


async def gradio_call(
    client: httpx.AsyncClient, stats: Stats, op: str, texts: list[str], token: str
) -> None:
    """A Gradio predict, recorded as `op`, or as `op`_busy when the queue was full."""
    start = time.perf_counter()
    try:
        status, detail, result = await gradio_predict(client, texts, token)
    except httpx.HTTPError as exc:
        status, detail, result = 0, repr(exc), None
    if status == BUSY:
        stats.busy += 1
        stats.busy_reply = stats.busy_reply or detail[:200]
        op += "_busy"
    elif result is not None:
        stats.rows += len(texts)
    stats.record(op, time.perf_counter() - start, status, status == BUSY or bool(result), detail)


async def user(
    client: httpx.AsyncClient,
    stats: Stats,
    deadline: float,
    seed: int,
    think: float,
    mix: dict[str, int],
) -> None:
    rng = random.Random(seed)
    account = {"username": f"load_{uuid.uuid4().hex[:12]}", "password": PASSWORD}
    registered = client.post("/api/auth/register", json=account)
    if not await timed(stats, "register", registered, expect=201):
        return
    login = await timed(stats, "login", client.post("/api/auth/token", data=account))
    if login is None:
        return
    token = login.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    cursor: str | None = None
    ops, weights = list(mix), list(mix.values())
    while time.monotonic() < deadline:
        op = rng.choices(ops, weights)[0]
        if op == "predict":
            texts = [words(rng) for _ in range(rng.randint(1, 5))]
            body = {"texts": texts} if len(texts) > 1 else {"text": texts[0]}
            call = client.post("/api/predict", json=body, headers=auth)
            if await timed(stats, op, call):
                stats.rows += len(texts)
        elif op == "history":
            params: dict[str, str | int] = {"limit": 20}
            if cursor:
                params["cursor"] = cursor
            elif rng.random() < 0.3:
                params["label"] = rng.choice(["negative", "neutral", "positive"])
            page = await timed(stats, op, client.get("/api/history", params=params, headers=auth))
            cursor = page.json()["next_cursor"] if page else None
        elif op == "insights":
            await timed(stats, op, client.get("/api/insights", headers=auth))
        elif op == "batch":
            rows = rng.randint(20, 50)
            files = {"file": ("reviews.csv", small_csv(rng, rows), "text/csv")}
            call = client.post("/api/batch", files=files, headers=auth)
            await timed(stats, op, call, expect=202)  # queued: its rows are not counted
        else:
            texts = [words(rng) for _ in range(rng.randint(1, 3))]
            await gradio_call(client, stats, op, texts, token)
        if think:
            await asyncio.sleep(rng.expovariate(1 / think))


async def burst(client: httpx.AsyncClient, stats: Stats, calls: int) -> None:
    """`calls` Gradio predictions at the same instant, more than the queue holds."""
    account = {"username": f"burst_{uuid.uuid4().hex[:12]}", "password": PASSWORD}
    await client.post("/api/auth/register", json=account)
    token = (await client.post("/api/auth/token", data=account)).json()["access_token"]
    rng = random.Random(0)
    texts = [words(rng, 20, 40) for _ in range(20)]

    await asyncio.gather(*(gradio_call(client, stats, "burst", texts, token) for _ in range(calls)))


def offline_rate(model_cache: Path, texts: int = 4_000) -> float:
    """Texts/s of the same kind of texts scored in one process, no server (the ceiling the
    server's rate is compared with), before the server starts."""
    from sentiment import load_model, predict

    model = load_model("bundled", backend="onnx-int8", cache_dir=model_cache)
    rng = random.Random(1)
    given = [words(rng) for _ in range(texts)]
    predict(model, given[:200])
    start = time.perf_counter()
    predict(model, given)
    return texts / (time.perf_counter() - start)


async def drive(args: argparse.Namespace, base: str, server_pid: int) -> tuple[Stats, float]:
    stats = Stats()
    limits = httpx.Limits(max_connections=args.users + args.burst + 10)
    async with httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits) as client:
        cpu = CpuSnapshot.take(server_pid)
        start = time.monotonic()
        deadline = start + args.duration
        await asyncio.gather(
            *(
                user(client, stats, deadline, seed, args.think, args.mix)
                for seed in range(args.users)
            )
        )
        seconds = time.monotonic() - start
        stats.timed_rows = stats.rows
        stats.cpu_split = cpu.split(CpuSnapshot.take(server_pid)) if cpu else ""
        if args.burst:
            await burst(client, stats, args.burst)
    return stats, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users at once")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between calls (s)")
    parser.add_argument(
        "--burst", type=int, default=200, help="Gradio calls fired at once at the end (0: none)"
    )
    parser.add_argument("--timeout", type=float, default=120, help="per request, seconds")
    parser.add_argument(
        "--database-url", help="a PostgreSQL server URL; a fresh database is made and dropped"
    )
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=MIX,
        help="operation=weight,... (default: "
        + ",".join(f"{k}={v}" for k, v in MIX.items())
        + "); e.g. predict=80,history=20 for the saturation run",
    )
    add_model_cache_option(parser)
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    offline = offline_rate(args.model_cache)
    with (
        tempfile.TemporaryDirectory(prefix="sentiscope-load-") as work,
        fresh_database(args.database_url, "sentiscope_load") as database,
    ):
        # Every simulated user registers from 127.0.0.1.
        with app_server(
            Path(work), args.model_cache, database, REGISTRATIONS_PER_IP="10000"
        ) as server:
            stats, seconds = asyncio.run(drive(args, server.url, server.process.pid))
        report(stats, seconds, args, backend, offline)
        if stats.server_errors:
            print("\nServer log (last 3,000 characters):\n" + server.log_tail())
    return 1 if stats.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
