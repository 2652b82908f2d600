"""Batch repository: one row per finished batch. Queries only; every read takes the owner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Batch


def insert(
    session: Session,
    *,
    user_id: int,
    filename: str,
    counts: Mapping[str, int],
    created_at: datetime,
    status: str = "done",
) -> int:
    """Add a batch row and return its id (flushed, not committed: the caller's transaction)."""
    batch = Batch(user_id=user_id, filename=filename[:255], status=status, created_at=created_at)
    _apply_counts(batch, counts)
    session.add(batch)
    session.flush()
    return batch.id


def get(session: Session, user_id: int, batch_id: int) -> Batch | None:
    """The batch if it exists and belongs to `user_id`; another user's batch is None."""
    query = select(Batch).where(Batch.id == batch_id, Batch.user_id == user_id)
    return session.scalars(query).one_or_none()


def recent(session: Session, user_id: int, limit: int = 20) -> Sequence[Batch]:
    """The user's newest batches first."""
    query = (
        select(Batch)
        .where(Batch.user_id == user_id)
        .order_by(Batch.created_at.desc(), Batch.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def owners(session: Session) -> set[tuple[int, int]]:
    """(user_id, batch_id) of every batch; for sweeping results files whose batch is gone."""
    return {(row.user_id, row.id) for row in session.execute(select(Batch.user_id, Batch.id))}


def set_counts(session: Session, batch_id: int, counts: Mapping[str, int]) -> None:
    """Give a batch inserted in this transaction its label counts and row count."""
    batch = session.get(Batch, batch_id)
    assert batch is not None
    _apply_counts(batch, counts)
    session.flush()


def _apply_counts(batch: Batch, counts: Mapping[str, int]) -> None:
    batch.row_count = sum(counts.values())
    batch.count_negative = counts.get("negative", 0)
    batch.count_neutral = counts.get("neutral", 0)
    batch.count_positive = counts.get("positive", 0)
