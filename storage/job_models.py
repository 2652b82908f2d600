"""The tables of batch jobs: the job, its chunks and its stored parts (see batch/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import JOB_ID_LENGTH, JOB_STATUSES, Base, UTCDateTime, in_values, utcnow


class BatchJob(Base):
    """A batch as a durable job: its file, options, progress and outcome.

    Any process reads and changes it, so status, progress, cancel and download work from
    every replica and survive restarts. The stored upload and results (see BatchBlob)
    expire at `files_expire_at`; the job row stays.
    """

    __tablename__ = "batch_jobs"
    __table_args__ = (
        CheckConstraint(in_values("status", JOB_STATUSES), name="status"),
        Index("ix_batch_jobs_user_id_created_at", "user_id", "created_at"),
        Index("ix_batch_jobs_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(JOB_ID_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    text_column: Mapped[str] = mapped_column(String(255))
    # What inspect() learnt (encoding, delimiter, columns, empty rows...), as JSON.
    details: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total_rows: Mapped[int] = mapped_column(Integer)  # rows with a text to score
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL"), default=None
    )
    count_negative: Mapped[int] = mapped_column(Integer, default=0)
    count_neutral: Mapped[int] = mapped_column(Integer, default=0)
    count_positive: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    files_expire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    files_removed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Against the user's own labels (batch/evaluation.py), as JSON; set when done.
    evaluation: Mapped[str | None] = mapped_column(Text, default=None)


class BatchChunk(Base):
    """One slice of a job's rows; `done` is set once, by whoever scores it first."""

    __tablename__ = "batch_chunks"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)  # rows with a text to score
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class BatchBlob(Base):
    """A stored part of a job (an input chunk or its results), zlib-compressed.

    Used when the database is PostgreSQL, so that every process (and a restarted Space
    without a disk) reads the same files; development mode keeps them under DATA_DIR.
    """

    __tablename__ = "batch_blobs"
    __table_args__ = (Index("ix_batch_blobs_job_id", "job_id"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("batch_jobs.id", ondelete="CASCADE"))
    data: Mapped[bytes] = mapped_column(LargeBinary)
