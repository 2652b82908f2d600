"""Batch job repository: job rows, their chunks and stored blobs. Queries only.

The state changes are single guarded UPDATEs (`... WHERE status IN (...)`, `... WHERE
done = false`), so when two workers or a worker and a cancel race, exactly one wins and
the loser sees a row count of 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import ACTIVE_JOB_STATUSES, BatchBlob, BatchChunk, BatchJob


def add_chunks(session: Session, job_id: str, chunk_rows: Sequence[int]) -> None:
    """Insert a job's chunks, `chunk_rows[k]` texts in chunk k (the caller's transaction)."""
    if chunk_rows:
        session.execute(
            insert(BatchChunk),
            [
                {"job_id": job_id, "number": k, "rows": n, "done": False}
                for k, n in enumerate(chunk_rows)
            ],
        )


def get(session: Session, job_id: str, user_id: int | None = None) -> BatchJob | None:
    """The job; with `user_id`, only if it belongs to that user."""
    query = select(BatchJob).where(BatchJob.id == job_id)
    if user_id is not None:
        query = query.where(BatchJob.user_id == user_id)
    return session.scalars(query).one_or_none()


def by_batch(session: Session, user_id: int, batch_id: int) -> BatchJob | None:
    query = select(BatchJob).where(BatchJob.user_id == user_id, BatchJob.batch_id == batch_id)
    return session.scalars(query).first()


def page(
    session: Session, user_id: int, *, limit: int, before: datetime | None = None
) -> Sequence[BatchJob]:
    """The user's jobs, newest first; `before` continues after the last one seen."""
    query = select(BatchJob).where(BatchJob.user_id == user_id)
    if before is not None:
        query = query.where(BatchJob.created_at < before)
    return session.scalars(query.order_by(BatchJob.created_at.desc()).limit(limit)).all()


def active(session: Session, user_id: int | None = None) -> Sequence[BatchJob]:
    """Jobs still queued or running, oldest first (all users when `user_id` is None)."""
    query = select(BatchJob).where(BatchJob.status.in_(ACTIVE_JOB_STATUSES))
    if user_id is not None:
        query = query.where(BatchJob.user_id == user_id)
    return session.scalars(query.order_by(BatchJob.created_at)).all()


def pending_chunks(session: Session, job_id: str) -> list[int]:
    query = select(BatchChunk.number).where(BatchChunk.job_id == job_id, ~BatchChunk.done)
    return list(session.scalars(query.order_by(BatchChunk.number)))


def chunk_is_done(session: Session, job_id: str, number: int) -> bool:
    query = select(BatchChunk.done).where(BatchChunk.job_id == job_id, BatchChunk.number == number)
    return bool(session.scalar(query))


def set_status(
    session: Session, job_id: str, status: str, *, only_from: Iterable[str], **values: Any
) -> bool:
    """Move the job to `status` if it is in one of `only_from`; whether this call did."""
    result = session.execute(
        update(BatchJob)
        .where(BatchJob.id == job_id, BatchJob.status.in_(tuple(only_from)))
        .values(status=status, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_chunk(session: Session, job_id: str, number: int, rows: int) -> bool:
    """Count a chunk in its running job and mark it done; False if the job is no longer
    running (cancelled, failed) or the chunk was done already: the caller then rolls back.

    The job row is locked before the chunk row, in the same order as a cancel takes them,
    so the two never deadlock.
    """
    counted = session.execute(
        update(BatchJob)
        .where(BatchJob.id == job_id, BatchJob.status == "running")
        .values(rows_done=BatchJob.rows_done + rows, chunks_done=BatchJob.chunks_done + 1)
    )
    if not counted.rowcount:  # type: ignore[attr-defined]
        return False
    marked = session.execute(
        update(BatchChunk)
        .where(BatchChunk.job_id == job_id, BatchChunk.number == number, ~BatchChunk.done)
        .values(done=True)
    )
    return bool(marked.rowcount)  # type: ignore[attr-defined]


def lock_for_finish(session: Session, job_id: str) -> BatchJob | None:
    """The running job with every chunk done, row-locked until the transaction ends (on
    PostgreSQL; SQLite's write lock serialises) — or None if someone else finished it."""
    touched = session.execute(
        update(BatchJob)
        .where(
            BatchJob.id == job_id,
            BatchJob.status == "running",
            BatchJob.chunks_done == BatchJob.chunk_count,
        )
        .values(status="running")
    )
    if not touched.rowcount:  # type: ignore[attr-defined]
        return None
    return session.get(BatchJob, job_id, populate_existing=True)


def expired(session: Session, now: datetime) -> Sequence[BatchJob]:
    """Done jobs whose stored files are past their expiry and still there."""
    query = select(BatchJob).where(
        BatchJob.status == "done", BatchJob.files_expire_at <= now, ~BatchJob.files_removed
    )
    return session.scalars(query).all()


def mark_files_removed(session: Session, job_id: str) -> None:
    session.execute(update(BatchJob).where(BatchJob.id == job_id).values(files_removed=True))


def with_files(session: Session) -> set[str]:
    """Ids of the jobs whose stored files are still needed (active, or done and kept)."""
    query = select(BatchJob.id).where(~BatchJob.files_removed)
    return set(session.scalars(query))


def delete_chunks(session: Session, job_id: str) -> None:
    session.execute(delete(BatchChunk).where(BatchChunk.job_id == job_id))


# Blobs kept in the database (PostgreSQL); see batch/blobs.py.


def put_blob(session: Session, job_id: str, key: str, data: bytes) -> None:
    session.execute(delete(BatchBlob).where(BatchBlob.key == key))
    session.add(BatchBlob(key=key, job_id=job_id, data=data))
    session.flush()


def get_blob(session: Session, key: str) -> bytes | None:
    return session.scalar(select(BatchBlob.data).where(BatchBlob.key == key))


def delete_blobs(session: Session, job_id: str) -> int:
    result = session.execute(delete(BatchBlob).where(BatchBlob.job_id == job_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def blob_bytes(session: Session, job_id: str) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(func.length(BatchBlob.data)), 0)).where(
                BatchBlob.job_id == job_id
            )
        )
        or 0
    )


def blob_keys(session: Session) -> list[tuple[str, str]]:
    """(key, job id) of every stored blob."""
    return [(k, j) for k, j in session.execute(select(BatchBlob.key, BatchBlob.job_id))]


def owners(session: Session) -> dict[str, int]:
    """Job id -> user id, for every job."""
    return {j: u for j, u in session.execute(select(BatchJob.id, BatchJob.user_id))}
