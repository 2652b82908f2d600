"""The engine on PostgreSQL: procrastinate. A chunk is a procrastinate job in the same
database, deferred in the transaction that creates the batch job; any worker process on
any machine (`python app.py worker`, or BATCH_WORKERS threads of a web process) takes it.

A worker that dies mid-chunk stops sending heartbeats; every worker looks for such
stalled jobs every STALLED_CHECK_S and queues them again, so the chunk goes to another
worker within about a minute. On SIGTERM a worker lets its chunks finish for
GRACEFUL_S, then asks them to stop: the chunk code hands its chunk back (a retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from batch.work import TRANSIENT, ChunkWork
from storage import jobs
from storage.engine import Database

logger = logging.getLogger(__name__)

QUEUE = "sentiscope-batch"
TASK = "sentiscope.score_chunk"
HEARTBEAT_S = 5.0
STALLED_AFTER_S = 20.0  # no heartbeat for this long: the worker is dead
STALLED_CHECK_S = 10.0
RESTART_S = 2.0  # a worker that lost the database tries again this often
GRACEFUL_S = 6.0  # SIGTERM: chunks may finish for this long, then are handed back
RETRY = procrastinate.RetryStrategy(max_attempts=50, wait=1, retry_exceptions=set(TRANSIENT))


def conninfo(url: URL) -> str:
    """A libpq connection string for procrastinate's psycopg pool."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(url: URL, work: ChunkWork) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))

    @app.task(name=TASK, queue=QUEUE, retry=RETRY, pass_context=True)
    def score_chunk(context: procrastinate.JobContext, job_id: str, chunk: int) -> None:
        work.run_chunk(job_id, chunk, context.should_abort)

    return app


async def _retry_stalled(app: procrastinate.App) -> None:
    while True:
        await asyncio.sleep(STALLED_CHECK_S)
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=QUEUE, seconds_since_heartbeat=STALLED_AFTER_S
            )
            for job in stalled:
                logger.warning("Batch chunk %s stalled (its worker died); queued again", job.id)
                await app.job_manager.retry_job(job)
        except Exception as exc:  # the database blinked: try again at the next check
            logger.warning("Checking for stalled batch chunks failed: %s", exc)


async def run_worker(
    url: URL, work: ChunkWork, concurrency: int, *, install_signal_handlers: bool
) -> None:
    """Work until stopped (a signal, or cancellation of this coroutine). A worker that
    loses the database starts again once it answers; its chunks are retried then."""
    while True:
        try:
            await _work(url, work, concurrency, install_signal_handlers=install_signal_handlers)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning(
                "The batch worker stopped: %s; starting it again in %.0f s", exc, RESTART_S
            )
            await asyncio.sleep(RESTART_S)


async def _work(
    url: URL, work: ChunkWork, concurrency: int, *, install_signal_handlers: bool
) -> None:
    app = make_app(url, work)
    async with app.open_async():
        sweeper = asyncio.create_task(_retry_stalled(app))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                install_signal_handlers=install_signal_handlers,
                shutdown_graceful_timeout=GRACEFUL_S,
                update_heartbeat_interval=HEARTBEAT_S,
                stalled_worker_timeout=STALLED_AFTER_S,
                delete_jobs="successful",
                fetch_job_polling_interval=2.0,
                abort_job_polling_interval=2.0,
            )
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper


# Chunks procrastinate still holds (waiting or being scored), per batch job.
_HELD = text(
    "SELECT args->>'job_id', (args->>'chunk')::int FROM procrastinate_jobs "
    "WHERE queue_name = :queue AND task_name = :task AND status IN ('todo', 'doing')"
)


def missing_tasks(session: Session) -> dict[str, list[int]]:
    """Chunks of active jobs that no procrastinate task will score: jobs restored from
    a backup (procrastinate's tables are not in it), or whose tasks were removed by hand.
    A job whose chunks are all done but was never finished gets one task for chunk 0:
    running it finishes the job."""
    held: dict[str, set[int]] = {}
    for job_id, chunk in session.execute(_HELD, {"queue": QUEUE, "task": TASK}):
        held.setdefault(job_id, set()).add(chunk)
    missing: dict[str, list[int]] = {}
    for job in jobs.active(session):
        pending = jobs.pending_chunks(session, job.id)
        if job.id not in held:
            missing[job.id] = pending or [0]
        elif left := [k for k in pending if k not in held[job.id]]:
            missing[job.id] = left
    return missing


class ProcrastinateEngine:
    def __init__(self, db: Database, work: ChunkWork, workers: int) -> None:
        self._db = db
        self._url = db.url
        self._work = work
        self.workers = workers
        self._app = make_app(db.url, work)  # for deferring; workers open their own
        self._task: Any = self._app.tasks[TASK]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    def enqueue(self, session: Session, job_id: str, chunks: Sequence[int]) -> None:
        if not chunks:
            return
        driver = session.connection().connection.driver_connection
        deferrer = self._task.configure(connection=driver)
        deferrer.batch_defer(*({"job_id": job_id, "chunk": k} for k in chunks))

    def start(self) -> None:
        self.requeue_missing()
        if self.workers == 0:
            return
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            coroutine = run_worker(
                self._url, self._work, self.workers, install_signal_handlers=False
            )
            self._main = loop.create_task(coroutine)
            ready.set()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(self._main)
            loop.close()

        self._thread = threading.Thread(target=serve, name="batch-worker", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)

    def requeue_missing(self) -> None:
        """Give every active job's unscored chunks a task (at each web process's start).
        Two processes starting at once may both add one; the chunk code writes it once."""
        with self._db.session_scope() as session:
            missing = missing_tasks(session)
            for job_id, chunks in missing.items():
                logger.info("Batch job %s: %d chunks queued again", job_id, len(chunks))
                self.enqueue(session, job_id, chunks)

    def close(self) -> None:
        if self._loop is not None and self._main is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._main.cancel)
        if self._thread is not None:
            self._thread.join(timeout=GRACEFUL_S + 4)
        self._thread = None
