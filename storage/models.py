"""Tables, as SQLAlchemy 2 typed models. Schema changes go through Alembic migrations.

The shared base and types are in storage/base.py, the batch job tables in
storage/job_models.py; every name is importable from here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import (
    ACTIVE_JOB_STATUSES,
    BATCH_STATUSES,
    JOB_ID_LENGTH,
    JOB_STATUSES,
    LABELS,
    MAX_BIG_ID,
    MAX_ID,
    SOURCES,
    Base,
    BigId,
    UTCDateTime,
    as_row_id,
    in_values,
    utcnow,
)
from storage.job_models import BatchBlob, BatchChunk, BatchJob

__all__ = [
    "ACTIVE_JOB_STATUSES", "BATCH_STATUSES", "JOB_ID_LENGTH", "JOB_STATUSES", "LABELS",
    "MAX_BIG_ID", "MAX_ID", "SOURCES", "ApiToken", "AuthEvent", "Base", "Batch", "BatchBlob",
    "BatchChunk", "BatchJob", "BigId", "Prediction", "RecoveryCode", "RevokedToken",
    "TotpCredential", "UTCDateTime", "User", "as_row_id", "utcnow",
]  # fmt: skip


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped by "log out everywhere" and password change; tokens carry it as `ver`.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Case-insensitive uniqueness; usernames are ASCII, so lower() agrees on every backend.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint(in_values("status", BATCH_STATUSES), name="status"),
        Index("ix_batches_user_id_created_at_id", "user_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    count_negative: Mapped[int] = mapped_column(Integer, default=0)
    count_neutral: Mapped[int] = mapped_column(Integer, default=0)
    count_positive: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        CheckConstraint(in_values("label", LABELS), name="label"),
        CheckConstraint(in_values("source", SOURCES), name="source"),
        # Keyset paging of a user's history: WHERE user_id = ? AND (created_at, id) < (?, ?).
        Index("ix_predictions_user_id_created_at_id", "user_id", "created_at", "id"),
        # The same paging within one label (History filter); with the score it also covers
        # Insights' counts per label, day and score bin (no table row is read for them).
        Index(
            "ix_predictions_user_label_created_id_score",
            "user_id",
            "label",
            "created_at",
            "id",
            "score",
        ),
        Index("ix_predictions_batch_id", "batch_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    prob_negative: Mapped[float] = mapped_column(Float)
    prob_neutral: Mapped[float] = mapped_column(Float)
    prob_positive: Mapped[float] = mapped_column(Float)
    model_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A personal API token; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so a user can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuthEvent(Base):
    __tablename__ = "auth_events"
    __table_args__ = (
        Index("ix_auth_events_user_id_created_at", "user_id", "created_at"),
        Index("ix_auth_events_username_created_at", "username", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # The username as tried (lower-cased, clipped), so failures for unknown names count too.
    username: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    client_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(512), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevokedToken(Base):
    """A logged-out access token's `jti`, kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"
    __table_args__ = (Index("ix_revoked_tokens_expires_at", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TotpCredential(Base):
    """A user's TOTP secret (encrypted); `confirmed_at` is NULL while enrolment is pending."""

    __tablename__ = "totp_credentials"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    # The 30-second step of the last accepted code: a code is never accepted twice.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class RecoveryCode(Base):
    """A one-time two-factor recovery code; only the SHA-256 of the code is stored."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
