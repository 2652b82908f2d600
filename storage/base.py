"""What every table shares: the declarative base, UTC datetimes, ids and label names."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

LABELS = ("negative", "neutral", "positive")
SOURCES = ("single", "batch", "api")
BATCH_STATUSES = ("pending", "running", "done", "failed")
# A batch job, from upload to history; `batches` rows exist only for done jobs.
JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_JOB_STATUSES = ("queued", "running")
JOB_ID_LENGTH = 24  # hex characters of a job id: unguessable, never a number

# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids fall back to it there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


# The largest ids the columns hold: Integer keys (users, batches, API tokens) are 32-bit on
# PostgreSQL, BigId keys (predictions, auth events) 64-bit. A larger number in a query is
# an error there (and an OverflowError in SQLite past 64 bits), not "no such row".
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1


def as_row_id(value: object, limit: int = MAX_ID) -> int | None:
    """`value` (an int, a whole float or a string of ASCII digits) as a row id in
    1..`limit`, or None when it cannot be one (a lookup by it would find nothing)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():  # NaN and infinities too
            return None
        value = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 19):
            return None
        value = int(text)
    if not isinstance(value, int) or not 0 < value <= limit:
        return None
    return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def in_values(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
