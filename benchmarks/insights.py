"""Insights at scale: 100,000 tweet-like predictions for one user; how long does the
whole Insights summary take (counts, trend, histogram and top words over every text)?

    python benchmarks/insights.py                      # SQLite file in a temp dir
    python benchmarks/insights.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

With a PostgreSQL URL a fresh database is created next to the one named and dropped
afterwards. Times are `InsightsService.for_user` (what the Insights tab and /api/insights
call), median and p95 of `--repeat` runs after one warm-up, on the CPU.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from analysis.filters import make_filters
from analysis.insights import InsightsService
from benchmarks.machine import describe
from settings import normalize_database_url
from storage import predictions, upgrade_head
from storage.engine import Database
from storage.models import LABELS, User
from storage.predictions import HistoryFilters

WORDS = [
    "flight",
    "delayed",
    "again",
    "crew",
    "lovely",
    "seat",
    "broken",
    "bags",
    "lost",
    "thanks",
    "great",
    "awful",
]
WORDS += [
    "gate",
    "hours",
    "customer",
    "service",
    "rude",
    "friendly",
    "upgrade",
    "cancelled",
    "refund",
    "food",
]
NOISE = ["@united", "@AmericanAir", "http://t.co/abc123", "&amp;", "2", "10/10", "#fail"]


def fill(db: Database, user_id: int, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2030, 1, 1, tzinfo=UTC)

    def row(i: int) -> dict[str, Any]:
        label = rng.choice(LABELS)
        words = rng.choices(WORDS, k=rng.randint(8, 20)) + rng.choices(NOISE, k=3)
        rng.shuffle(words)
        return predictions.new_row(
            user_id=user_id,
            text=" ".join(words),
            label=label,
            score=0.9,
            probabilities={"negative": 0.05, "neutral": 0.05, "positive": 0.05, label: 0.9},
            model_id="benchmark",
            source="batch",
            created_at=start + timedelta(seconds=rng.uniform(0, 365 * 86_400)),
        )

    with db.session_scope() as session:
        predictions.insert_many(session, (row(i) for i in range(rows)))


def run(url: str, rows: int, repeat: int) -> None:
    db = Database(normalize_database_url(url))
    upgrade_head(db.engine)
    with db.session_scope() as session:
        user = User(username="bench", password_hash="-")  # noqa: S106 - cannot log in
        session.add(user)
        session.flush()
        me = user.id
    began = time.perf_counter()
    fill(db, me, rows, seed=1)
    print(f"{db.backend}: inserted {rows:,} rows in {time.perf_counter() - began:.1f} s")
    if db.backend == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE predictions"))
    service = InsightsService(db)
    cases = {
        "all rows": HistoryFilters(),
        "label=negative": make_filters(label="negative"),
        "text search 'refund'": make_filters(search="refund"),
    }
    print(describe(1, what="threads (one query at a time)"))
    print(f"{'insights for':30} {'p50 ms':>8} {'p95 ms':>8}")
    for name, filters in cases.items():
        samples = []
        for i in range(repeat + 1):
            began = time.perf_counter()
            service.for_user(me, filters)
            if i:  # the first run warms caches
                samples.append((time.perf_counter() - began) * 1000)
        samples.sort()
        p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
        print(f"{name:30} {statistics.median(samples):8.0f} {p95:8.0f}")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    if not args.database_url:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.db", args.rows, args.repeat)
        return
    server = normalize_database_url(args.database_url)
    name = f"sentiscope_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(server.set(database=name).render_as_string(False), args.rows, args.repeat)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
