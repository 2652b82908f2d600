"""Batches for the edges: submit a file as a durable job, follow it, cancel it, download it.

The pieces: batch/submit.py stores an upload as a job; an engine (batch/engine.py) hands
its chunks to workers, which run batch/work.py; batch/results.py streams the download.
Every answer here is read from the database, so any process gives the same one.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from batch.blobs import BlobStore, FileBlobStore
from batch.downloads import stored_job
from batch.engine import JobEngine
from batch.ingest import CsvInfo, Limits, inspect
from batch.jobs import JobView, Progress, view
from batch.labels import LabelPlan, plan
from batch.misclassified import stream_misclassified
from batch.results import stream_csv, stream_xlsx
from batch.submit import submit
from batch.work import ChunkWork
from errors import AppError, BatchCancelled, BatchFailed, InvalidInput, NotFound
from storage import jobs
from storage.engine import Database
from storage.models import JOB_ID_LENGTH, BatchJob, as_row_id, utcnow

logger = logging.getLogger(__name__)

RESULTS_FOLDER = "batches"  # under DATA_DIR: stored parts in development mode (backed up)
POLL_S = 0.2  # how often `run` looks at a job it waits for
PAGE_LIMIT = 100
SWEEP_EVERY_S = 3600.0  # expired stored files are removed within the hour

ProgressCallback = Callable[[Progress], None]


def limits_from(max_upload_mb: int, max_rows: int, max_chars: int) -> Limits:
    return Limits(max_bytes=max_upload_mb * 1024 * 1024, max_rows=max_rows, max_chars=max_chars)


class BatchService:
    def __init__(
        self,
        db: Database,
        work: ChunkWork,
        blobs: BlobStore,
        engine: JobEngine,
        limits: Limits,
        *,
        upload_dir: Path,
        chunk_rows: int = 1_000,
        files_days: int = 30,
    ) -> None:
        self._db = db
        self.work = work
        self.blobs = blobs
        self.engine = engine
        self.limits = limits
        self.upload_dir = upload_dir  # uploads wait here while they are checked and stored
        self.chunk_rows = chunk_rows
        self.files_days = files_days
        self._stopping = threading.Event()

    def inspect(
        self, path: Path | str, text_column: str | None = None, sheet: str | None = None
    ) -> CsvInfo:
        """Check a file and describe it (preview, detected column); CsvFormatError if unreadable.

        `sheet` chooses a workbook's sheet (default: the first); CSV/TSV files ignore it."""
        return inspect(path, self.limits, text_column=text_column, sheet=sheet)

    def labels(
        self,
        path: Path | str,
        info: CsvInfo,
        label_column: str,
        label_map: str | dict[str, Any] | None = None,
    ) -> LabelPlan:
        """The label column's map, given (checked) or suggested; InvalidInput if unusable."""
        return plan(path, info, self.limits, label_column, label_map)

    def submit(
        self,
        user_id: int,
        path: Path | str,
        filename: str,
        *,
        text_column: str | None = None,
        label_column: str | None = None,
        label_map: str | dict[str, Any] | None = None,
        sheet: str | None = None,
    ) -> JobView:
        """Check the file (and its label column), store it as a queued job, return at once.

        Raises CsvFormatError (unreadable, over a limit, no such sheet) or InvalidInput (a
        label column or map that cannot be used) before anything is stored.
        """
        info = self.inspect(path, text_column, sheet)
        if label_column is None and label_map is not None and str(label_map).strip():
            raise InvalidInput("label_map needs a label_column: name the column it maps.")
        labels = self.labels(path, info, label_column, label_map) if label_column else None
        if self._stopping.is_set():  # closed, then used again (an app served twice)
            self.start()
        return submit(
            self._db, self.blobs, self.engine, user_id=user_id, path=Path(path),
            filename=filename, info=info, limits=self.limits, chunk_rows=self.chunk_rows,
            files_days=self.files_days, labels=labels,
        )  # fmt: skip

    def run(
        self,
        user_id: int,
        path: Path | str,
        filename: str,
        *,
        text_column: str | None = None,
        label_column: str | None = None,
        label_map: str | dict[str, Any] | None = None,
        sheet: str | None = None,
        on_progress: ProgressCallback | None = None,
        on_start: Callable[[JobView], None] | None = None,
        timeout_s: float | None = None,
    ) -> JobView:
        """Submit, then wait until the job is done (for scripts and gradio_client's /batch).

        Raises BatchCancelled or BatchFailed (nothing saved), as `wait` does.
        """
        job = self.submit(
            user_id, path, filename, text_column=text_column, label_column=label_column,
            label_map=label_map, sheet=sheet,
        )  # fmt: skip
        if on_start is not None:
            on_start(job)
        return self.wait(user_id, job.id, on_progress=on_progress, timeout_s=timeout_s)

    def wait(
        self,
        user_id: int,
        job_id: str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout_s: float | None = None,
    ) -> JobView:
        """Follow a job until it ends, reporting each change of its progress."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        last = -1
        while True:
            job = self.job(user_id, job_id)
            if on_progress is not None and job.progress.done != last and job.status != "queued":
                last = job.progress.done
                on_progress(job.progress)
            if job.status == "done":
                return job
            if job.status == "cancelled":
                raise BatchCancelled("The batch was cancelled; nothing was saved.")
            if job.status == "failed":
                raise BatchFailed(job.error or "The batch failed; nothing was saved.")
            if deadline is not None and time.monotonic() > deadline:
                return job
            time.sleep(POLL_S)

    def job(self, user_id: int, job_or_batch_id: str | int) -> JobView:
        """A job by its id, or by the number of the batch it recorded; NotFound for
        another user's (or nobody's)."""
        with self._db.session_scope() as session:
            found = None
            number = as_row_id(job_or_batch_id)
            if number is not None:
                found = jobs.by_batch(session, user_id, number)
            elif isinstance(job_or_batch_id, str) and len(job_or_batch_id) == JOB_ID_LENGTH:
                found = jobs.get(session, job_or_batch_id, user_id)
            if found is None:
                raise NotFound(f"You have no batch {job_or_batch_id}.")
            return view(found)

    def jobs(
        self, user_id: int, *, limit: int = 20, before: datetime | None = None
    ) -> list[JobView]:
        """The user's jobs, newest first."""
        with self._db.session_scope() as session:
            rows = jobs.page(session, user_id, limit=min(limit, PAGE_LIMIT), before=before)
            return [view(row) for row in rows]

    def cancel(self, user_id: int, job_id: str | None = None) -> int:
        """Cancel the user's queued or running job (all of them when `job_id` is None);
        how many. Workers drop its chunks; nothing is saved; its files are removed."""
        with self._db.session_scope() as session:
            mine = [job.id for job in jobs.active(session, user_id) if job_id in (None, job.id)]
        return sum(self.work.end(job, "cancelled") for job in mine)

    def results(
        self, user_id: int, batch_id: int | str, *, xlsx: bool = False
    ) -> tuple[JobView, Iterator[bytes]]:
        """The job and its results CSV (or .xlsx), streamed; NotFound, or Gone once expired."""
        shown, job = self._stored(user_id, batch_id)
        if xlsx:
            return shown, stream_xlsx(self._db, self.blobs, job, self.upload_dir)
        return shown, stream_csv(self._db, self.blobs, job)

    def misclassified(self, user_id: int, batch_id: int | str) -> tuple[JobView, Iterator[bytes]]:
        """The rows whose prediction differs from the user's label, streamed as CSV;
        NotFound for a batch without a label column, Gone once its files expired."""
        shown = self.job(user_id, batch_id)
        if shown.status == "done" and shown.evaluation is None:
            raise NotFound(
                f"Batch {batch_id} was scored without a label column, so nothing was "
                "compared; submit it again with label_column."
            )
        shown, job = self._stored(user_id, batch_id)
        return shown, stream_misclassified(self._db, self.blobs, job)

    def evaluation(self, user_id: int, batch_id: int | str) -> dict[str, Any] | None:
        """The evaluation of the user's batch, or None (no label column, or no such batch)."""
        try:
            return self.job(user_id, batch_id).evaluation
        except NotFound:
            return None

    def _stored(self, user_id: int, batch_id: int | str) -> tuple[JobView, BatchJob]:
        shown = self.job(user_id, batch_id)
        return shown, stored_job(self._db, self.blobs, user_id, shown)

    def save_results(
        self, user_id: int, batch_id: int | str, path: Path, *, misclassified: bool = False
    ) -> Path:
        """Write the results (or only the misclassified rows) to `path`, CSV or .xlsx by
        its suffix (the UI hands a copy to the browser)."""
        if misclassified:
            _job, blocks = self.misclassified(user_id, batch_id)
        else:
            _job, blocks = self.results(user_id, batch_id, xlsx=path.suffix.lower() == ".xlsx")
        with path.open("wb") as out:
            for block in blocks:
                out.write(block)
        return path

    def remove_results_of(self, user_id: int) -> None:
        """After an account is deleted: its jobs' stored files (rows went with it)."""
        self.blobs.remove_user(user_id)

    def remove_orphaned_results(self) -> int:
        """Delete stored folders whose job is gone or over without a result (start-up)."""
        if not isinstance(self.blobs, FileBlobStore):
            return 0
        with self._db.session_scope() as session:
            keep = jobs.with_files(session)
        removed = 0
        for folder in self.blobs.orphans(keep):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        if removed:
            logger.info("Removed %d stored batch folder(s) whose job no longer needs them", removed)
        return removed

    def remove_expired(self, now: datetime | None = None) -> int:
        """Remove the stored files of jobs past BATCH_FILES_DAYS; their history stays."""
        now = now or utcnow()
        with self._db.session_scope() as session:
            due = [(job.id, job.user_id) for job in jobs.expired(session, now)]
        for job_id, user_id in due:
            with self._db.session_scope() as session:
                self.blobs.remove_job(session, user_id, job_id)
                jobs.delete_chunks(session, job_id)
                jobs.mark_files_removed(session, job_id)
        if due:
            logger.info("Removed the stored files of %d expired batch job(s)", len(due))
        return len(due)

    def start(self) -> None:
        """Start this process's workers and the hourly sweep of expired files."""
        self._stopping.clear()
        self.remove_expired()
        self.engine.start()
        self._sweeper = threading.Thread(target=self._sweep, name="batch-expiry", daemon=True)
        self._sweeper.start()

    def close(self) -> None:
        self._stopping.set()
        self.engine.close()

    def _sweep(self) -> None:
        while not self._stopping.wait(SWEEP_EVERY_S):
            try:
                self.remove_expired()
            except AppError as exc:  # the database is away: the next sweep catches up
                logger.warning("Removing expired batch files failed: %s", exc.message)
