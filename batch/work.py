"""The work of a batch, whichever engine delivers it: score one chunk; finish the job.

Both steps are idempotent. A chunk's results are stored and the chunk marked done in one
transaction whose guarded UPDATE only one worker wins, so a chunk retried after its
worker died (or scored twice by a slow worker) is written once. The job is finished by
whoever sees its last chunk done: in one transaction the `batches` row and every
prediction are added and the job marked done, so history shows all of it or nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from sqlalchemy.exc import OperationalError

from batch.blobs import BlobStore, input_name, output_name, pack, unpack
from batch.chunkscore import score_texts
from batch.evaluation import Evaluator
from batch.ingest import model_text
from batch.jobs import SOURCE_BATCH
from errors import AppError, DatabaseUnavailable
from sentiment.documents import DocumentScorer, Window
from sentiment.language import LanguageRule
from sentiment.scheduler import BATCH, InferenceScheduler
from storage import batches, jobs, predictions
from storage.engine import Database
from storage.models import ACTIVE_JOB_STATUSES, LABELS, BatchJob, utcnow

logger = logging.getLogger(__name__)

FAILED = "Scoring or saving failed; nothing was saved."


class HandBack(Exception):
    """This worker is stopping: the chunk is left for another worker to score."""


# Errors worth another try (the database blinked); anything else fails the job.
TRANSIENT = (DatabaseUnavailable, OperationalError, HandBack)


def _texts(rows: list[list[Any]], index: int, max_chars: int) -> Iterator[tuple[str, bool]]:
    """(text for the model, cut?) per stored row that has a text."""
    for _line, cells in rows:
        text, cut = model_text(cells[index], max_chars)
        if text:
            yield text, cut


def _label_cells(rows: list[list[Any]], details: dict[str, Any]) -> Iterator[str | None]:
    """The gold label cell of each row `_texts` yields (None without a label column)."""
    index = details.get("label_index")
    if index is None:
        yield from repeat(None)
        return
    text_index = details["text_index"]
    for _line, cells in rows:
        if cells[text_index].strip():  # the rows that have a text, as in results.py
            yield cells[index]


@dataclass
class _Tally:
    counts: list[int] = field(default_factory=lambda: [0] * len(LABELS))
    score_sum: float = 0.0
    truncated: int = 0
    evaluator: Evaluator | None = None  # when the batch names a label column
    unsupported: int = 0  # rows confidently in a language the model does not read

    def add(self, label: int, score: float, cut: bool, gold: str | None) -> None:
        self.counts[label] += 1
        self.score_sum += score
        self.truncated += cut
        if self.evaluator is not None and gold is not None:
            self.evaluator.add(gold, LABELS[label])


class ChunkWork:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        scheduler: InferenceScheduler,
        *,
        insert_chunk: int = predictions.INSERT_CHUNK,
        languages: LanguageRule | None = None,
    ) -> None:
        self._db = db
        self.blobs = blobs
        self._scheduler = scheduler
        self.insert_chunk = insert_chunk
        self.languages = languages or LanguageRule()  # MODEL_LANGUAGES, LANGUAGE_POLICY

    def run_chunk(
        self, job_id: str, number: int, should_stop: Callable[[], bool] = lambda: False
    ) -> None:
        """Score chunk `number` of the job (unless done, or the job is over), then finish
        the job if that was its last chunk. Raises HandBack when `should_stop` says so."""
        with self._db.session_scope() as session:
            job = jobs.get(session, job_id)
            if job is None or job.status not in ACTIVE_JOB_STATUSES:
                return  # cancelled, failed or gone: nothing to do
            user_id, details = job.user_id, job.details
            if not jobs.chunk_is_done(session, job_id, number):
                jobs.set_status(
                    session, job_id, "running", only_from=("queued",), started_at=utcnow()
                )
                rows = unpack(self.blobs.get(session, user_id, job_id, input_name(number)))
            else:
                rows = None
        if rows is not None:
            try:
                self._score(job_id, user_id, number, rows, details, should_stop)
            except TRANSIENT:
                raise
            except Exception as exc:
                logger.warning("batch job %s: chunk %d failed: %s", job_id, number, exc)
                self.fail(job_id, exc.message if isinstance(exc, AppError) else FAILED)
                return
        self.finish(job_id)

    def _score(
        self,
        job_id: str,
        user_id: int,
        number: int,
        rows: list[list[Any]],
        details_json: str,
        should_stop: Callable[[], bool],
    ) -> None:
        """Whole-document labels (long texts by sentences, sentiment.documents) and each
        row's language. A stored result is [label index, score, negative, neutral,
        positive, cut], or None for a row LANGUAGE_POLICY=skip left unscored; the part
        also holds `languages` (one per text, None when unsure) and `unsupported`."""
        details = json.loads(details_json)
        found = list(_texts(rows, details["text_index"], details["max_chars"]))
        scorer = DocumentScorer(
            lambda texts: self._scheduler.predict(texts, lane=BATCH, max_chars=None),
            Window.of(self._scheduler.model),
            self.languages,
        )

        def stop() -> None:
            if should_stop():
                raise HandBack(f"chunk {number} of job {job_id} handed back")

        scored = score_texts(found, scorer, self.languages, stop)
        with self._db.session_scope() as session:
            if not jobs.finish_chunk(session, job_id, number, len(found)):
                session.rollback()  # done by another worker, or the job is over
                return
            payload = {
                "model": scored.model,
                "results": scored.results,
                "languages": scored.languages,
                "unsupported": scored.unsupported,
            }
            self.blobs.put(session, user_id, job_id, output_name(number), pack(payload))

    def finish(self, job_id: str) -> None:
        """If every chunk is done: record the batch and its predictions, all or nothing."""
        try:
            with self._db.session_scope() as session:
                job = jobs.lock_for_finish(session, job_id)
                if job is None:
                    return
                self._record(session, job)
        except TRANSIENT:
            raise
        except Exception as exc:
            logger.warning("batch job %s: recording failed: %s", job_id, exc)
            self.fail(job_id, exc.message if isinstance(exc, AppError) else FAILED)

    def _record(self, session: Any, job: BatchJob) -> None:
        """One pass over the stored parts: every prediction is written (COPY on
        PostgreSQL), counted and (with a label column) compared with its gold label;
        then the batch row gets its counts and the job its evaluation."""
        details = json.loads(job.details)
        now = utcnow()
        batch_id = batches.insert(
            session, user_id=job.user_id, filename=job.filename, counts={}, created_at=now
        )
        label_map = details.get("label_map")
        tally = _Tally(evaluator=Evaluator(label_map) if label_map else None)
        rows = self._prediction_rows(session, job, details, batch_id, now, tally)
        predictions.insert_many(session, rows, chunk_size=self.insert_chunk)
        counts = dict(zip(LABELS, tally.counts, strict=True))
        batches.set_counts(session, batch_id, counts)
        job.status, job.batch_id, job.finished_at = "done", batch_id, now
        job.count_negative, job.count_neutral, job.count_positive = tally.counts
        job.score_sum, job.truncated, job.rows_done = (
            tally.score_sum,
            tally.truncated,
            sum(tally.counts),
        )
        if tally.evaluator is not None:
            job.evaluation = json.dumps(tally.evaluator.result())
        details["unsupported_language"] = tally.unsupported
        details["language_policy"] = self.languages.policy
        job.details = json.dumps(details)
        session.flush()

    def _prediction_rows(
        self,
        session: Any,
        job: BatchJob,
        details: dict[str, Any],
        batch_id: int,
        now: Any,
        tally: _Tally,
    ) -> Iterator[dict[str, Any]]:
        for number in range(job.chunk_count):
            rows = unpack(self.blobs.get(session, job.user_id, job.id, input_name(number)))
            payload = unpack(self.blobs.get(session, job.user_id, job.id, output_name(number)))
            tally.unsupported += int(payload.get("unsupported", 0))
            texts = _texts(rows, details["text_index"], details["max_chars"])
            scored = zip(texts, payload["results"], strict=True)
            golds = _label_cells(rows, details)  # one per text; endless None without labels
            for ((text, _cut), result), gold in zip(scored, golds, strict=False):
                if result is None:  # LANGUAGE_POLICY=skip: not scored, not in history
                    continue
                label, score, negative, neutral, positive, cut = result
                tally.add(label, score, bool(cut), gold)
                yield predictions.new_row(
                    user_id=job.user_id,
                    text=text,
                    label=LABELS[label],
                    score=score,
                    probabilities={"negative": negative, "neutral": neutral, "positive": positive},
                    model_id=payload["model"],
                    source=SOURCE_BATCH,
                    created_at=now,
                    batch_id=batch_id,
                )

    def fail(self, job_id: str, message: str) -> None:
        """Mark the job failed (if still active) and remove what it stored."""
        self.end(job_id, "failed", error=message)

    def end(self, job_id: str, status: str, error: str | None = None) -> bool:
        """Move an active job to `status` and clean up; False if it was already over."""
        with self._db.session_scope() as session:
            job = jobs.get(session, job_id)
            if job is None:
                return False
            ended = jobs.set_status(
                session, job_id, status, only_from=ACTIVE_JOB_STATUSES,
                error=error, finished_at=utcnow(), files_removed=True,
            )  # fmt: skip
            if ended:
                jobs.delete_chunks(session, job_id)
                self.blobs.remove_job(session, job.user_id, job_id)
        return ended
