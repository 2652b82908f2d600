"""Batch jobs across real processes: web replicas that only take and serve jobs, standalone
workers that score them, and what happens when any of them is killed or restarted.

PostgreSQL (the `cluster` fixture): web processes A and B run with BATCH_WORKERS=0 and
`python app.py worker` processes do the scoring. A submits with 50-row chunks (many small
chunks); B with 2,500-row chunks (a chunk outlasts a worker's SIGTERM grace period).
Development mode (SQLite) has its own test: the app is killed mid-batch and resumes it.
"""

from __future__ import annotations

import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.helpers import FreshDatabase, skip_or_fail
from tests.processes import (
    LONG,
    Api,
    Process,
    Processes,
    result_ids,
    shared_model_cache,
    write_csv,
)

pytestmark = pytest.mark.slow

SMALL_CHUNKS = "50"
BIG_CHUNKS = "2500"
STARTED = r"Starting job sentiscope\.score_chunk\[(\d+)\]\(([^)]*)\)"
DONE_S = 180  # generous: the test machines are small and shared


class Cluster:
    def __init__(self, processes: Processes, engine: Engine) -> None:
        self.processes = processes
        self.engine = engine
        self.a: Process
        self.b: Process
        self.workers: list[Process] = []
        self.count = 0

    def new_worker(self) -> Process:
        self.count += 1
        worker = self.processes.worker(f"worker{self.count}")
        self.workers.append(worker)
        return worker

    def live_workers(self) -> list[Process]:
        return [w for w in self.workers if w.alive()]

    def explain(self) -> str:
        return self.processes.tails()

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def doing(self, job_id: str) -> list[tuple[int, int]]:
        """(procrastinate job id, chunk number) of the job's chunks being scored now."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, (args->>'chunk')::int FROM procrastinate_jobs "
                    "WHERE status = 'doing' AND args->>'job_id' = :job ORDER BY id"
                ),
                {"job": job_id},
            )
            return [(int(a), int(b)) for a, b in rows]

    def task_status(self, task_id: int) -> str | None:
        """A chunk task's procrastinate status (None once deleted: it succeeded)."""
        return self.scalar("SELECT status::text FROM procrastinate_jobs WHERE id = :id", id=task_id)

    def predictions_of(self, user_id: int, batch_id: int | None = None) -> int:
        if batch_id is None:
            return int(
                self.scalar("SELECT count(*) FROM predictions WHERE user_id = :u", u=user_id)
            )
        return int(
            self.scalar(
                "SELECT count(*) FROM predictions WHERE user_id = :u AND batch_id = :b",
                u=user_id,
                b=batch_id,
            )
        )

    def owner_of(self, task_id: int) -> Process:
        """The worker whose log shows it started chunk task `task_id`."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for worker in self.live_workers():
                if re.search(rf"score_chunk\[{task_id}\]", worker.log()):
                    return worker
            time.sleep(0.05)
        pytest.fail(f"no worker log shows chunk task {task_id}\n{self.explain()}")


@pytest.fixture(scope="module")
def cluster(database: FreshDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if database.backend != "postgresql":
        skip_or_fail("REQUIRE_POSTGRES", "web replicas and standalone workers need PostgreSQL")
    cache = shared_model_cache(tmp_path_factory)
    processes = Processes(tmp_path_factory.mktemp("cluster"), database.url, cache)
    engine = create_engine(database.url)
    found = Cluster(processes, engine)
    try:
        # A first: its start migrates the fresh database, so the others do not race to.
        found.a = processes.web("webA", BATCH_WORKERS="0", BATCH_CHUNK_ROWS=SMALL_CHUNKS)
        processes.ready(found.a)
        found.b = processes.web("webB", BATCH_WORKERS="0", BATCH_CHUNK_ROWS=BIG_CHUNKS)
        workers = [found.new_worker(), found.new_worker()]
        processes.ready(found.b, *workers)
        yield found
    finally:
        processes.close()
        engine.dispose()


def test_a_job_posted_to_one_replica_is_scored_by_two_workers_and_served_by_another(
    cluster: Cluster, tmp_path: Path
) -> None:
    rows = 1_000  # 20 chunks of 50
    on_a = Api.new_user(cluster.a.url)
    on_b = on_a.on(cluster.b.url)
    job = on_a.submit(write_csv(tmp_path / "reviews.csv", rows))
    assert job["status"] == "queued"
    assert job["status_url"] == f"/api/batch/{job['job_id']}"

    done = on_b.wait_done(job["job_id"], DONE_S, cluster.explain)
    assert done["progress"]["done"] == rows
    assert done["scored"] == rows
    assert sum(done["counts"].values()) == rows
    batch_id = done["batch_id"]
    assert on_a.job(batch_id)["job_id"] == job["job_id"]  # by its batch number, on A too

    assert on_b.history_count(batch_id) == rows
    assert cluster.predictions_of(on_a.user_id()) == rows
    assert result_ids(on_b.download(batch_id)) == [str(i) for i in range(rows)]
    for worker in cluster.workers:
        took = [m for m in re.finditer(STARTED, worker.log()) if job["job_id"] in m.group(2)]
        assert took, f"{worker.name} took no chunk of the job\n{worker.tail()}"
    listed = on_b.http.get("/api/batches").json()["items"]
    assert [item["job_id"] for item in listed] == [job["job_id"]]


def test_cancel_on_another_replica_saves_nothing(cluster: Cluster, tmp_path: Path) -> None:
    rows = 600  # long texts: a dozen chunks of a second or more each
    on_a = Api.new_user(cluster.a.url)
    on_b = on_a.on(cluster.b.url)
    job_id = on_a.submit(write_csv(tmp_path / "long.csv", rows, LONG))["job_id"]
    on_a.wait(
        job_id, lambda j: j["status"] == "running" and j["progress"]["done"] > 0, DONE_S,
        cluster.explain,
    )  # fmt: skip

    answer = on_b.http.post(f"/api/batch/{job_id}/cancel")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "cancelled"
    again = on_b.http.post(f"/api/batch/{job_id}/cancel")
    assert again.status_code == 404  # nothing left to cancel

    deadline = time.monotonic() + 60  # chunks being scored notice and drop their results
    while cluster.doing(job_id) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not cluster.doing(job_id), cluster.explain()
    time.sleep(1)  # a chunk that was just writing has committed or rolled back by now
    for api in (on_a, on_b):
        shown = api.job(job_id)
        assert shown["status"] == "cancelled"
        assert shown["batch_id"] is None
        assert [j["status"] for j in api.http.get("/api/batches").json()["items"]] == ["cancelled"]
    user_id = on_a.user_id()
    assert cluster.scalar("SELECT count(*) FROM batches WHERE user_id = :u", u=user_id) == 0
    assert cluster.predictions_of(user_id) == 0
    assert cluster.scalar("SELECT count(*) FROM batch_blobs WHERE job_id = :j", j=job_id) == 0
    assert cluster.scalar("SELECT count(*) FROM batch_chunks WHERE job_id = :j", j=job_id) == 0


def test_a_restarted_replica_with_an_empty_data_dir_serves_the_same_download(
    cluster: Cluster, tmp_path: Path
) -> None:
    rows = 200
    on_a = Api.new_user(cluster.a.url)
    job_id = on_a.submit(write_csv(tmp_path / "keep.csv", rows))["job_id"]
    batch_id = on_a.wait_done(job_id, DONE_S, cluster.explain)["batch_id"]
    before = on_a.download(batch_id)
    assert result_ids(before) == [str(i) for i in range(rows)]

    old = cluster.a
    old.stop()
    data_dir = Path(old.env["DATA_DIR"])
    shutil.rmtree(data_dir)
    assert not data_dir.exists()
    cluster.a = cluster.processes.web(
        "webA-restarted", data_dir=data_dir, port=old.port,
        BATCH_WORKERS="0", BATCH_CHUNK_ROWS=SMALL_CHUNKS,
    )  # fmt: skip
    cluster.processes.ready(cluster.a)

    fresh = Api.login(cluster.a.url, on_a.username)
    assert fresh.download(batch_id) == before
    assert on_a.on(cluster.a.url).download(batch_id) == before  # the old token still works
    assert on_a.on(cluster.b.url).download(batch_id) == before
    assert fresh.job(job_id)["status"] == "done"


def test_a_chunk_of_a_killed_worker_is_retried_by_another(cluster: Cluster, tmp_path: Path) -> None:
    rows = 600  # long texts in chunks of 50: a chunk takes a second or more
    on_a = Api.new_user(cluster.a.url)
    job_id = on_a.submit(write_csv(tmp_path / "long.csv", rows, LONG))["job_id"]

    deadline = time.monotonic() + DONE_S
    while not (doing := cluster.doing(job_id)):
        assert time.monotonic() < deadline, cluster.explain()
        time.sleep(0.05)
    task_id, number = doing[0]
    victim = cluster.owner_of(task_id)
    victim.kill()  # SIGKILL: no hand-back, no unregistering; its heartbeat stops
    assert cluster.task_status(task_id) == "doing", "the chunk finished before the kill"
    assert not cluster.scalar(
        "SELECT done FROM batch_chunks WHERE job_id = :j AND number = :n", j=job_id, n=number
    )
    killed_at = time.monotonic()
    replacement = cluster.new_worker()

    done = on_a.wait_done(job_id, DONE_S, cluster.explain)
    retried = [w for w in cluster.live_workers() if f"Batch chunk {task_id} stalled" in w.log()]
    assert retried, f"no worker queued chunk task {task_id} again\n{cluster.explain()}"
    assert any(re.search(rf"score_chunk\[{task_id}\]", w.log()) for w in cluster.live_workers())
    assert time.monotonic() - killed_at < DONE_S
    assert cluster.predictions_of(on_a.user_id(), done["batch_id"]) == rows
    assert on_a.history_count(done["batch_id"]) == rows
    ids = result_ids(on_a.download(done["batch_id"]))
    assert ids == [str(i) for i in range(rows)]
    cluster.processes.ready(replacement)


def test_sigterm_hands_the_chunk_back_and_the_worker_exits(
    cluster: Cluster, tmp_path: Path
) -> None:
    rows = 5_000  # two chunks of 2,500 short texts (submitted through B)
    assert len(cluster.live_workers()) >= 2, cluster.explain()
    on_b = Api.new_user(cluster.b.url)
    job_id = on_b.submit(write_csv(tmp_path / "big.csv", rows))["job_id"]
    assert on_b.job(job_id)["progress"]["total"] == rows

    deadline = time.monotonic() + DONE_S
    while not (doing := cluster.doing(job_id)):
        assert time.monotonic() < deadline, cluster.explain()
        time.sleep(0.05)
    task_id, _number = doing[0]
    worker = cluster.owner_of(task_id)
    time.sleep(1)  # well inside the chunk
    signalled = time.monotonic()
    worker.send(signal.SIGTERM)
    code = worker.wait_exit(timeout=30)
    took = time.monotonic() - signalled
    assert code is not None, f"{worker.name} ignored SIGTERM\n{worker.tail()}"
    assert code == 0, worker.tail()
    assert "Batch worker stopped." in worker.log()
    # Handed back (queued again at once for another worker) or finished in the grace
    # period: never left 'doing' for the stalled-chunk sweeper to find a minute later.
    ended = re.search(
        rf"score_chunk\[{task_id}\]\([^)]*\) ended with status: (Success|Error, to retry)",
        worker.log(),
    )
    assert ended, f"{worker.name} stopped without ending chunk task {task_id}\n{worker.tail()}"

    done = on_b.wait_done(job_id, DONE_S, cluster.explain)
    assert f"Batch chunk {task_id} stalled" not in "".join(w.log() for w in cluster.workers)
    assert cluster.predictions_of(on_b.user_id(), done["batch_id"]) == rows
    assert result_ids(on_b.download(done["batch_id"])) == [str(i) for i in range(rows)]
    # Last, so that a slow exit is reported after what the batch did is checked.
    assert took < 10, f"{worker.name} took {took:.1f} s to stop\n{worker.tail()}"


# Development mode ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def development(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    """Processes on SQLite under their DATA_DIR (DATABASE_URL unset), whatever the run."""
    cache = shared_model_cache(tmp_path_factory)
    processes = Processes(tmp_path_factory.mktemp("development"), "", cache)
    try:
        yield processes
    finally:
        processes.close()


def test_development_mode_resumes_a_batch_after_the_app_is_killed(
    development: Processes, tmp_path: Path
) -> None:
    rows = 2_000  # 20 chunks of 100
    data_dir = development.root / "data"
    app = development.web("dev", data_dir=data_dir, BATCH_WORKERS="1", BATCH_CHUNK_ROWS="100")
    development.ready(app)
    api = Api.new_user(app.url)
    job_id = api.submit(write_csv(tmp_path / "reviews.csv", rows))["job_id"]
    seen = api.wait(job_id, lambda j: j["progress"]["done"] >= 200, DONE_S, development.tails)
    assert seen["status"] == "running", seen
    app.kill()  # SIGKILL mid-batch

    again = development.web(
        "dev-restarted", data_dir=data_dir, port=app.port, BATCH_WORKERS="1", BATCH_CHUNK_ROWS="100"
    )
    development.ready(again)
    api = Api.login(again.url, api.username)
    done = api.wait_done(job_id, DONE_S, development.tails)
    assert re.search(rf"Resuming batch job {job_id} \(\d+ chunks left\)", again.log())
    assert done["scored"] == rows
    assert api.history_count(done["batch_id"]) == rows
    database = create_engine(f"sqlite:///{data_dir / 'sentiscope.db'}")
    try:
        with database.connect() as connection:
            counted = connection.execute(
                text("SELECT count(*) FROM predictions WHERE batch_id = :b"),
                {"b": done["batch_id"]},
            ).scalar()
            batches = connection.execute(text("SELECT count(*) FROM batches")).scalar()
    finally:
        database.dispose()
    assert counted == rows
    assert batches == 1
    assert result_ids(api.download(done["batch_id"])) == [str(i) for i in range(rows)]
