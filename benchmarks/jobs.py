"""Batch jobs on PostgreSQL: rows/s through workers, interactive latency during a batch,
and the time from the end of a large upload to the 202.

    python benchmarks/jobs.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/jobs.py --postgres URL --rows 20000 --latency-s 15   # quicker

Every figure comes from this one run, on a fresh database:
- the model alone: the rows scored in chunks of 1,000 in one process, then one COPY (what
  a batch cost before jobs, before long documents and the language check);
- baseline: the same, each chunk scored as a chunk worker scores it (whole documents and
  the language check): the single-process rate the job path is held to;
- in-process: a web process with BATCH_WORKERS=1, end to end (POST to done);
- 1 and 2 standalone workers (`python app.py worker`) with a web process that scores
  nothing (BATCH_WORKERS=0), end to end;
- `/api/predict` single-text latency with N users (no think time) on an idle server, then
  while a batch runs in that server's own worker;
- a ~50 MB upload: seconds from the last byte sent to the 202.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.batch import review_texts, short_texts, write_csv
from benchmarks.machine import describe
from benchmarks.server import add_model_cache_option, app_server, fresh_database, worker_process
from settings import normalize_database_url

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway benchmark account


def token(url: str, username: str) -> str:
    httpx.post(f"{url}/api/auth/register", json={"username": username, "password": PASSWORD})
    reply = httpx.post(f"{url}/api/auth/token", data={"username": username, "password": PASSWORD})
    return str(reply.json()["access_token"])


def submit(url: str, bearer: str, path: Path) -> tuple[str, float]:
    """(status_url, seconds from POST to the 202); sending the body over loopback is
    a small part of it (the server checks and stores the file before answering)."""
    headers = {"Authorization": f"Bearer {bearer}"}
    with path.open("rb") as f, httpx.Client(timeout=600) as client:
        start = time.perf_counter()
        reply = client.post(f"{url}/api/batch", headers=headers, files={"file": (path.name, f)})
        seconds = time.perf_counter() - start
    assert reply.status_code == 202, reply.text
    return str(reply.json()["status_url"]), seconds


def wait_done(url: str, bearer: str, status_url: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {bearer}"}
    while True:
        status = httpx.get(f"{url}{status_url}", headers=headers, timeout=30).json()
        if status["status"] not in ("queued", "running"):
            assert status["status"] == "done", status
            return dict(status)
        time.sleep(0.25)


def end_to_end(url: str, bearer: str, path: Path, rows: int) -> float:
    start = time.perf_counter()
    status_url, _ = submit(url, bearer, path)
    wait_done(url, bearer, status_url)
    return rows / (time.perf_counter() - start)


def baseline(database_url: str, path: Path, rows: int, *, languages: bool = True) -> float:
    """Scoring and writing in one process, no jobs: chunks of 1,000 scored as a chunk
    worker scores them (whole documents and the language check, sentiment.documents;
    `languages=False`: the model alone), then one COPY."""
    from batch.ingest import Limits, inspect, iter_chunks
    from sentiment import Prediction, load_model, predict
    from sentiment.documents import DocumentScorer, Window
    from sentiment.language import LanguageRule
    from storage import Database, predictions, upgrade_head, users
    from storage.models import User, utcnow

    db = Database(normalize_database_url(database_url))
    upgrade_head(db.engine)
    model = load_model("bundled", backend="onnx-int8")
    scorer = DocumentScorer(
        lambda texts: predict(model, texts, max_chars=None), Window.of(model), LanguageRule()
    )
    limits = Limits(max_bytes=10**9, max_rows=10**7, max_chars=5000)
    start = time.perf_counter()
    info = inspect(path, limits)
    staged: list[tuple[str, Prediction]] = []
    for chunk in iter_chunks(path, info, limits, 1000):
        texts = [r.text for r in chunk if r.text]
        scored = scorer.score(texts) if languages else predict(model, texts, max_chars=None)
        staged.extend(zip(texts, scored, strict=True))
    with db.session_scope() as session:
        user = users.add(
            session,
            User(username=f"base{random.randint(0, 10**6)}", password_hash="-"),  # noqa: S106 - never logs in
        )
        now = utcnow()
        predictions.insert_many(session, (
            predictions.new_row(user_id=user.id, text=t, label=p.label, score=p.score,
                                probabilities=p.probabilities, model_id=p.model, source="batch",
                                created_at=now)
            for t, p in staged
        ))  # fmt: skip
    rate = rows / (time.perf_counter() - start)
    db.dispose()
    return rate


def latency(url: str, bearer: str, users: int, seconds: float) -> tuple[float, float, int]:
    """p50 and p95 (ms) of single-text /api/predict calls, `users` at once, no think time."""
    times: list[float] = []
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {bearer}"}

    def user(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < stop:
                text = short_texts(1, rng)[0]
                start = time.perf_counter()
                reply = client.post(f"{url}/api/predict", json={"texts": [text]}, headers=headers)
                times.append((time.perf_counter() - start) * 1000)
                assert reply.status_code == 200, reply.text

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q = statistics.quantiles(times, n=100)
    return q[49], q[94], len(times)


def during_a_batch(
    url: str, bearer: str, args: argparse.Namespace, short: Path, big: Path, rng: random.Random
) -> None:
    """Interactive latency idle and during a batch in the server's own worker; then the
    time from a large upload to its 202."""
    idle = latency(url, bearer, args.latency_users, args.latency_s)
    status_url, _ = submit(url, bearer, short)
    busy = latency(url, bearer, args.latency_users, args.latency_s)
    wait_done(url, bearer, status_url)
    print(
        f"/api/predict, {args.latency_users} users: idle p50 {idle[0]:.1f} ms p95 "
        f"{idle[1]:.1f} ms ({idle[2]} calls); during a batch p50 {busy[0]:.1f} ms p95 "
        f"{busy[1]:.1f} ms ({busy[2]} calls); p95 ratio {busy[1] / idle[1]:.2f}x"
    )
    n = max(1, int(args.upload_mb * 1e6 / 620))
    write_csv(big, review_texts(n, rng))
    size = big.stat().st_size / 1e6
    big_url, to_202 = submit(url, bearer, big)
    print(f"upload of {size:,.1f} MB ({n:,} reviews): {to_202:.2f} s from POST to the 202")
    httpx.post(f"{url}{big_url}/cancel", headers={"Authorization": f"Bearer {bearer}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, help="server URL; a fresh database is made")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--latency-users", type=int, default=5)
    parser.add_argument("--latency-s", type=float, default=30.0)
    parser.add_argument("--upload-mb", type=float, default=50.0)
    parser.add_argument(
        "--rates-only", action="store_true", help="rows/s only: no latency, no large upload"
    )
    add_model_cache_option(parser)
    args = parser.parse_args()
    print(describe(None, "inference threads per process"))
    work = Path(tempfile.mkdtemp(prefix="sentiscope-jobs-"))
    rng = random.Random(7)
    short = work / "short.csv"
    write_csv(short, short_texts(args.rows, rng))
    cache = args.model_cache
    with fresh_database(args.postgres) as database:
        assert database is not None
        bare = baseline(database, short, args.rows, languages=False)
        print(f"the model alone (one process, no jobs, no language check): {bare:,.0f} rows/s")
        base = baseline(database, short, args.rows)
        print(f"baseline (one process, no jobs, same scoring as a worker): {base:,.0f} rows/s")
        with app_server(work / "a", cache, database, BATCH_WORKERS="1", MAX_UPLOAD_MB="60") as web:
            bearer = token(web.url, "bench_inproc")
            inproc = end_to_end(web.url, bearer, short, args.rows)
            print(f"in-process worker (BATCH_WORKERS=1): {inproc:,.0f} rows/s "
                  f"({inproc / base:.0%} of the baseline)")  # fmt: skip
            if not args.rates_only:
                during_a_batch(web.url, bearer, args, short, work / "big.csv", rng)
        with app_server(work / "b", cache, database, BATCH_WORKERS="0") as front:
            bearer = token(front.url, "bench_workers")
            with worker_process(work, cache, database):
                one = end_to_end(front.url, bearer, short, args.rows)
                print(f"1 standalone worker: {one:,.0f} rows/s ({one / base:.0%} of the baseline)")
                with worker_process(work, cache, database):
                    two = end_to_end(front.url, bearer, short, args.rows)
                    print(f"2 standalone workers: {two:,.0f} rows/s ({two / one:.2f}x one worker)")


if __name__ == "__main__":
    main()
