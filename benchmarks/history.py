"""History at scale: 100,000 predictions for one user; how long do pages take?

    python benchmarks/history.py                      # SQLite file in a temp dir
    python benchmarks/history.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

With a PostgreSQL URL a fresh database is created next to the one named and dropped
afterwards. Times are the repository call (query, fetch and ORM rows), median and p95 of
`--repeat` runs after one warm-up: an upper bound on the database time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe
from sqlalchemy import create_engine, text

from analysis.filters import make_filters
from settings import normalize_database_url
from storage import predictions, upgrade_head
from storage.engine import Database
from storage.models import LABELS, User
from storage.predictions import HistoryFilters

WORDS = ["good", "bad", "great", "awful", "service", "food", "price", "delivery", "staff"]
WORDS += ["slow", "fast", "lovely", "broken", "cheap", "friendly", "rude", "clean", "fresh"]


def fill(db: Database, user_id: int, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    span = timedelta(days=365).total_seconds()

    def row(i: int) -> dict[str, Any]:
        label = rng.choice(LABELS)
        score = rng.uniform(0.34, 1.0)
        rest = (1 - score) / 2
        return predictions.new_row(
            user_id=user_id,
            text=" ".join(rng.choices(WORDS, k=rng.randint(5, 25))),
            label=label,
            score=score,
            probabilities={"negative": rest, "neutral": rest, "positive": rest, label: score},
            model_id="benchmark",
            source=rng.choice(("single", "api", "batch")),
            created_at=start + timedelta(seconds=rng.uniform(0, span)),
        )

    with db.session_scope() as session:
        predictions.insert_many(session, (row(i) for i in range(rows)))


def timed(db: Database, fn: Callable[[Any], object], repeat: int) -> tuple[float, float]:
    samples = []
    for i in range(repeat + 1):
        with db.session_scope() as session:
            began = time.perf_counter()
            fn(session)
            if i:  # the first run warms caches
                samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def run(url: str, rows: int, repeat: int) -> None:
    db = Database(normalize_database_url(url))
    upgrade_head(db.engine)
    with db.session_scope() as session:
        # "-" is no argon2 hash, so these users cannot log in.
        users = [User(username=f"bench{i}", password_hash="-") for i in range(2)]  # noqa: S106
        session.add_all(users)
        session.flush()
        me, other = users[0].id, users[1].id
    began = time.perf_counter()
    fill(db, me, rows, seed=1)
    fill(db, other, rows // 5, seed=2)  # someone else's rows share the table
    print(
        f"{db.backend}: inserted {rows + rows // 5:,} rows in {time.perf_counter() - began:.1f} s"
    )
    if db.backend == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE predictions"))
    with db.session_scope() as session:
        second = predictions.page(session, me, HistoryFilters(), limit=50)[-1]
    cursor = (second.created_at, second.id)
    negative_march = make_filters(label="negative", since="2030-03-01", until="2030-03-31")
    cases: dict[str, Callable[[Any], object]] = {
        "first page (50 rows)": lambda s: predictions.page(s, me, HistoryFilters(), limit=51),
        "second page via cursor": lambda s: predictions.page(
            s, me, HistoryFilters(), after=cursor, limit=51
        ),
        "filtered page: label=negative": lambda s: predictions.page(
            s, me, make_filters(label="negative"), limit=51
        ),
        "filtered page: negative, March": lambda s: predictions.page(
            s, me, negative_march, limit=51
        ),
        "filtered page: source=api + text search": lambda s: predictions.page(
            s, me, make_filters(source="api", search="lovely"), limit=51
        ),
        "count by label (Insights)": lambda s: predictions.count_by_label(s, me, HistoryFilters()),
    }
    print(describe(1, what="threads (one query at a time)"))
    print(f"{'query':45} {'median ms':>10} {'p95 ms':>8}")
    for name, fn in cases.items():
        median, p95 = timed(db, fn, repeat)
        print(f"{name:45} {median:10.2f} {p95:8.2f}")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
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
