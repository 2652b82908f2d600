"""The engine only delivers work ("score chunk k of job j") to some worker; the job's state
lives in our tables. One small interface, two engines: procrastinate on PostgreSQL
(batch/procrastinate_engine.py) and worker threads inside the app in development mode
(here). Another engine (Celery, ...) would implement the same three methods.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from batch.work import TRANSIENT, ChunkWork
from storage import jobs
from storage.engine import Database

logger = logging.getLogger(__name__)

RETRIES = 5  # tries of a chunk that meets a transient error (the database blinked)
RETRY_WAIT_S = 1.0


class JobEngine(Protocol):
    def enqueue(self, session: Session, job_id: str, chunks: Sequence[int]) -> None:
        """Queue the chunks' tasks as part of `session`'s transaction: if it rolls back,
        nothing is queued; once it commits, some worker will run each of them."""

    def start(self) -> None:
        """Start this process's workers (BATCH_WORKERS of them; none when 0)."""

    def close(self) -> None:
        """Stop this process's workers; a chunk being scored is finished or handed back."""


class ThreadEngine:
    """Development mode (SQLite, one process): a queue and worker threads in the app.

    At start, chunks of jobs left queued or running (the app was killed) are queued again
    and jobs whose chunks are all done are finished, so they resume and complete; the
    chunk code's guards keep anything from being written twice.
    """

    def __init__(self, db: Database, work: ChunkWork, workers: int) -> None:
        self._db = db
        self._work = work
        self.workers = workers
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def enqueue(self, session: Session, job_id: str, chunks: Sequence[int]) -> None:
        items = [(job_id, k) for k in chunks]

        @event.listens_for(session, "after_commit", once=True)
        def _queue_after_commit(_session: Session) -> None:
            for item in items:
                self._queue.put(item)

    def start(self) -> None:
        if self.workers == 0:
            logger.warning(
                "BATCH_WORKERS=0 in development mode: batches are accepted but none is "
                "scored until the app starts with BATCH_WORKERS=1 or more."
            )
            return
        self._stop = threading.Event()  # a fresh one: started again after a close
        self._queue = queue.Queue()
        self._resume()
        for i in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"batch-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()

    def _resume(self) -> None:
        with self._db.session_scope() as session:
            left = [(job.id, jobs.pending_chunks(session, job.id)) for job in jobs.active(session)]
        for job_id, chunks in left:
            logger.info("Resuming batch job %s (%d chunks left)", job_id, len(chunks))
            for k in chunks:
                self._queue.put((job_id, k))
            if not chunks:
                self._work.finish(job_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:
                return
            self._run(*item)

    def _run(self, job_id: str, number: int) -> None:
        for attempt in range(1, RETRIES + 1):
            try:
                self._work.run_chunk(job_id, number, self._stop.is_set)
                return
            except TRANSIENT as exc:
                if self._stop.is_set():
                    return  # handed back: the next start resumes it
                logger.warning("batch job %s chunk %d: %s (try %d)", job_id, number, exc, attempt)
                time.sleep(RETRY_WAIT_S * attempt)
            except Exception:
                logger.exception("batch job %s chunk %d failed", job_id, number)
                return
        self._work.fail(job_id, "The database stayed unavailable while scoring; nothing was saved.")
