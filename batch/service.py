"""Run a batch for a user: read, score in chunks, then record it all or nothing.

Scoring streams each chunk's results to two files in `results_dir/tmp` (the results CSV
and the rows for the database); only when every row is scored does one transaction add
the `batches` row and all its predictions with chunked Core executemany. So a failure or
a cancel at any point leaves no rows behind, and a long batch never holds the database's
write lock (SQLite has one per file) while the model runs.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auth.tokens import Clock, system_clock
from batch.export import ResultWriter, open_results
from batch.ingest import CsvInfo, Limits, inspect, iter_chunks
from errors import AppError, BatchCancelled, NotFound
from storage import batches, predictions
from storage.engine import Database
from storage.models import LABELS, as_row_id

if TYPE_CHECKING:
    from sentiment import SentimentModel

logger = logging.getLogger(__name__)

RESULTS_FOLDER = "batches"  # under DATA_DIR; `python app.py backup` carries it too

SOURCE_BATCH = "batch"
CHUNK_ROWS = 256  # rows scored between two progress reports and cancel checks
KEEP_FINISHED_JOBS = 256


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    elapsed_s: float

    @property
    def rows_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        rate = self.rows_per_s
        return (self.total - self.done) / rate if rate > 0 else None

    def describe(self) -> str:
        """`1,024 / 10,000 rows · 250 rows/s · 36 s left`."""
        eta = self.eta_s
        left = f"{eta:,.0f} s left" if eta is not None else "estimating time left"
        return f"{self.done:,} / {self.total:,} rows · {self.rows_per_s:,.0f} rows/s · {left}"


ProgressCallback = Callable[[Progress], None]


@dataclass
class Job:
    """A batch being scored; shared between its worker and whoever asks for its status."""

    id: str
    user_id: int
    filename: str
    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    status: str = "running"  # running, done, failed, cancelled
    batch_id: int | None = None
    error: str | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    def progress(self) -> Progress:
        return Progress(self.done, self.total, time.monotonic() - self.started)

    def cancel(self) -> None:
        self._cancel.set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise BatchCancelled("The batch was cancelled; nothing was saved.")


@dataclass(frozen=True)
class BatchSummary:
    job_id: str
    batch_id: int
    filename: str
    encoding: str
    delimiter: str
    text_column: str
    rows: int
    scored: int
    empty_rows: int
    empty_lines: list[int]
    truncated: int
    counts: dict[str, int]
    mean_confidence: float
    elapsed_s: float
    write_s: float
    results_path: Path

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the results path stays on the server."""
        return {
            "batch_id": self.batch_id,
            "job_id": self.job_id,
            "filename": self.filename,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "text_column": self.text_column,
            "rows": self.rows,
            "scored": self.scored,
            "empty_rows": self.empty_rows,
            "empty_lines": self.empty_lines,
            "truncated": self.truncated,
            "counts": self.counts,
            "mean_confidence": round(self.mean_confidence, 6),
            "elapsed_s": round(self.elapsed_s, 3),
            "write_s": round(self.write_s, 3),
        }


@dataclass(frozen=True)
class BatchStatus:
    id: str  # the batch id once recorded, else the job id
    status: str
    filename: str
    done: int
    total: int
    rows_per_s: float
    eta_s: float | None
    batch_id: int | None
    counts: dict[str, int] | None
    error: str | None


@dataclass
class _Scored:
    counts: Counter[str] = field(default_factory=Counter)
    confidence: float = 0.0
    truncated: int = 0


class BatchService:
    def __init__(
        self,
        db: Database,
        model: SentimentModel,
        limits: Limits,
        results_dir: Path,
        *,
        chunk_rows: int = CHUNK_ROWS,
        insert_chunk: int = predictions.INSERT_CHUNK,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._model = model
        self.limits = limits
        self.results_dir = results_dir
        self.chunk_rows = chunk_rows
        self.insert_chunk = insert_chunk
        self._clock = clock
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def inspect(self, path: Path | str, text_column: str | None = None) -> CsvInfo:
        """Check a file and describe it (preview, detected column); CsvFormatError if unreadable."""
        return inspect(path, self.limits, text_column=text_column)

    def run(
        self,
        user_id: int,
        path: Path | str,
        filename: str,
        *,
        text_column: str | None = None,
        on_progress: ProgressCallback | None = None,
        on_start: Callable[[Job], None] | None = None,
    ) -> BatchSummary:
        """Score every row of `path` for `user_id` and record the batch, all or nothing.

        Raises CsvFormatError before scoring for an unreadable file or one over a limit,
        BatchCancelled if `cancel` is called on the job (see `on_start`), and whatever
        scoring or writing raised; in every case nothing is recorded.
        """
        info = self.inspect(path, text_column)
        job = self._new_job(user_id, filename, info.to_score)
        if on_start is not None:
            on_start(job)
        return self._execute(job, Path(path), info, on_progress)

    def start(
        self, user_id: int, path: Path, filename: str, *, text_column: str | None = None
    ) -> Job:
        """Check the file now, then score it in a background thread; `path` is removed after."""
        try:
            info = self.inspect(path, text_column)
        except AppError:
            path.unlink(missing_ok=True)
            raise
        job = self._new_job(user_id, filename, info.to_score)

        def work() -> None:
            try:
                self._execute(job, path, info, None)
            except Exception:
                logger.debug("batch job %s ended with an error", job.id, exc_info=True)
            finally:
                path.unlink(missing_ok=True)

        threading.Thread(target=work, name=f"batch-{job.id}", daemon=True).start()
        return job

    def cancel(self, user_id: int, job_id: str | None = None) -> int:
        """Cancel the user's running batch (all of them when `job_id` is None); how many."""
        with self._lock:
            jobs = [
                j
                for j in self._jobs.values()
                if j.user_id == user_id and j.status == "running" and job_id in (None, j.id)
            ]
        for job in jobs:
            job.cancel()
        return len(jobs)

    def status(self, user_id: int, batch_or_job_id: str) -> BatchStatus:
        """A recorded batch (numeric id) or a job; NotFound also for another user's."""
        number = as_row_id(batch_or_job_id)
        if number is not None:
            with self._db.session_scope() as session:
                row = batches.get(session, user_id, number)
                if row is None:
                    raise NotFound(f"You have no batch {batch_or_job_id}.")
                counts = {
                    "negative": row.count_negative,
                    "neutral": row.count_neutral,
                    "positive": row.count_positive,
                }
                return BatchStatus(
                    str(row.id), row.status, row.filename, row.row_count, row.row_count,
                    0.0, 0.0, row.id, counts, row.error,
                )  # fmt: skip
        with self._lock:
            job = self._jobs.get(batch_or_job_id)
        if job is None or job.user_id != user_id:
            raise NotFound(f"You have no batch {batch_or_job_id}.")
        progress = job.progress()
        return BatchStatus(
            job.id, job.status, job.filename, job.done, job.total,
            progress.rows_per_s, progress.eta_s, job.batch_id, None, job.error,
        )  # fmt: skip

    def results_file(self, user_id: int, batch_id: int) -> Path:
        """The results CSV of the user's batch; NotFound for another user's or a lost file."""
        with self._db.session_scope() as session:
            if batches.get(session, user_id, batch_id) is None:
                raise NotFound(f"You have no batch {batch_id}.")
        path = self._final_path(user_id, batch_id)
        if not path.exists():
            raise NotFound(f"The results file of batch {batch_id} is no longer on the server.")
        return path

    def remove_results_of(self, user_id: int) -> None:
        """Delete a user's results files (after their account, and its batches, are gone)."""
        shutil.rmtree(self.results_dir / f"user-{user_id}", ignore_errors=True)

    def remove_orphaned_results(self) -> int:
        """Delete results files whose batch no longer exists; return how many went.

        Run at start-up: it catches what an interrupted account deletion left behind.
        """
        with self._db.session_scope() as session:
            kept = batches.owners(session)
        removed = 0
        for path in self.results_dir.glob("user-*/batch-*.csv"):
            user, batch = path.parent.name.removeprefix("user-"), path.stem.removeprefix("batch-")
            if user.isdigit() and batch.isdigit() and (int(user), int(batch)) not in kept:
                path.unlink(missing_ok=True)
                removed += 1
        for folder in self.results_dir.glob("user-*"):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if removed:
            logger.info("Removed %d results file(s) whose batch no longer exists", removed)
        return removed

    def _final_path(self, user_id: int, batch_id: int) -> Path:
        return self.results_dir / f"user-{user_id}" / f"batch-{batch_id}.csv"

    def _new_job(self, user_id: int, filename: str, total: int) -> Job:
        job = Job(secrets.token_hex(12), user_id, filename, total)
        with self._lock:
            finished = [k for k, j in self._jobs.items() if j.status != "running"]
            for key in finished[: max(0, len(finished) - KEEP_FINISHED_JOBS)]:
                del self._jobs[key]
            self._jobs[job.id] = job
        return job

    def _execute(
        self, job: Job, path: Path, info: CsvInfo, on_progress: ProgressCallback | None
    ) -> BatchSummary:
        tmp = self.results_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        results = tmp / f"{job.id}.csv"
        staged = tmp / f"{job.id}.jsonl"
        try:
            scored = self._score(job, path, info, results, staged, on_progress)
            job.check_cancelled()  # the last chance: past here the batch is recorded
            write_start = time.monotonic()
            batch_id = self._record(job, scored, staged, results)
            write_s = time.monotonic() - write_start
        except BatchCancelled:
            job.status = "cancelled"
            raise
        except AppError as exc:
            job.status, job.error = "failed", exc.message
            raise
        except Exception:
            job.status, job.error = "failed", "Scoring or saving failed; nothing was saved."
            raise
        finally:
            results.unlink(missing_ok=True)
            staged.unlink(missing_ok=True)
        job.status, job.batch_id = "done", batch_id
        n = sum(scored.counts.values())
        return BatchSummary(
            job_id=job.id,
            batch_id=batch_id,
            filename=job.filename,
            encoding=info.encoding,
            delimiter=info.delimiter_name,
            text_column=info.text_column,
            rows=info.rows,
            scored=n,
            empty_rows=info.empty_rows,
            empty_lines=info.empty_lines,
            truncated=scored.truncated,
            counts={label: scored.counts.get(label, 0) for label in LABELS},
            mean_confidence=scored.confidence / n if n else 0.0,
            elapsed_s=job.progress().elapsed_s,
            write_s=write_s,
            results_path=self._final_path(job.user_id, batch_id),
        )

    def _score(
        self,
        job: Job,
        path: Path,
        info: CsvInfo,
        results: Path,
        staged: Path,
        on_progress: ProgressCallback | None,
    ) -> _Scored:
        from sentiment import predict

        scored = _Scored()
        with open_results(results) as out, staged.open("w", encoding="utf-8") as stage:
            writer = ResultWriter(out, info.columns)
            for chunk in iter_chunks(path, info, self.limits, self.chunk_rows):
                job.check_cancelled()
                texts = [row.text for row in chunk if row.text]
                found = iter(predict(self._model, texts, max_chars=None) if texts else ())
                for row in chunk:
                    if not row.text:
                        writer.write(row.cells)
                        continue
                    p = next(found)
                    cut = row.truncated or p.truncated
                    writer.write(row.cells, p.label, p.probabilities, p.score, cut)
                    probs = p.probabilities
                    record = [row.text, p.label, p.score, probs["negative"], probs["neutral"]]
                    stage.write(json.dumps([*record, probs["positive"], p.model]) + "\n")
                    scored.counts[p.label] += 1
                    scored.confidence += p.score
                    scored.truncated += cut
                job.done += len(texts)
                if on_progress is not None:
                    on_progress(job.progress())
        return scored

    def _record(self, job: Job, scored: _Scored, staged: Path, results: Path) -> int:
        now = self._clock()
        final: Path | None = None
        try:
            with self._db.session_scope() as session:
                batch_id = batches.insert(
                    session,
                    user_id=job.user_id,
                    filename=job.filename,
                    counts=scored.counts,
                    created_at=now,
                )
                with staged.open(encoding="utf-8") as lines:
                    rows = _prediction_rows(lines, job.user_id, batch_id, now)
                    predictions.insert_many(session, rows, chunk_size=self.insert_chunk)
                final = self._final_path(job.user_id, batch_id)
                final.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(results, final)
        except BaseException:
            if final is not None:
                final.unlink(missing_ok=True)
            raise
        return batch_id


def _prediction_rows(
    lines: Iterable[str], user_id: int, batch_id: int, now: Any
) -> Iterator[dict[str, Any]]:
    for line in lines:
        text, label, score, negative, neutral, positive, model_id = json.loads(line)
        yield predictions.new_row(
            user_id=user_id,
            text=text,
            label=label,
            score=score,
            probabilities={"negative": negative, "neutral": neutral, "positive": positive},
            model_id=model_id,
            source=SOURCE_BATCH,
            created_at=now,
            batch_id=batch_id,
        )


def limits_from(max_upload_mb: int, max_rows: int, max_chars: int) -> Limits:
    return Limits(max_bytes=max_upload_mb * 1024 * 1024, max_rows=max_rows, max_chars=max_chars)
