"""Prediction repository: bulk insert, keyset pages, deletes and aggregates. Queries only.

Every query takes the owner's `user_id` and filters on it; nothing here reads or deletes
rows across users, so a caller cannot forget the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    and_,
    cast,
    delete,
    func,
    insert,
    select,
    tuple_,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.models import Prediction

INSERT_CHUNK = 1_000
HISTOGRAM_BINS = 10
_TABLE: Table = Prediction.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class HistoryFilters:
    """Which of a user's predictions to include. Unset fields do not filter."""

    label: str | None = None
    source: str | None = None
    batch_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    search: str | None = None  # case-insensitive substring of the text


Cursor = tuple[datetime, int]  # (created_at, id) of the last row already seen


def new_row(
    *,
    user_id: int,
    text: str,
    label: str,
    score: float,
    probabilities: Mapping[str, float],
    model_id: str,
    source: str,
    created_at: datetime,
    batch_id: int | None = None,
) -> dict[str, Any]:
    """One row for `insert_many`."""
    return {
        "user_id": user_id,
        "text": text,
        "label": label,
        "score": score,
        "prob_negative": probabilities["negative"],
        "prob_neutral": probabilities["neutral"],
        "prob_positive": probabilities["positive"],
        "model_id": model_id,
        "source": source,
        "batch_id": batch_id,
        "created_at": created_at,
    }


def insert_many(
    session: Session,
    rows: Iterable[Mapping[str, Any]],
    *,
    chunk_size: int = INSERT_CHUNK,
    return_ids: bool = False,
) -> list[int]:
    """Insert rows (from `new_row`), `chunk_size` at a time, inside the session's transaction.

    Returns the new ids in input order when `return_ids` (a Core executemany with
    RETURNING), else an empty list.
    """
    connection = session.connection()
    ids: list[int] = []
    returning = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
    iterator = iter(rows)
    while chunk := list(islice(iterator, chunk_size)):
        if return_ids:
            ids.extend(connection.execute(returning, chunk).scalars().all())
        else:
            _write_chunk(connection, chunk)
    return ids


def _write_chunk(connection: Connection, chunk: Sequence[Mapping[str, Any]]) -> None:
    """Write one chunk: a `COPY ... FROM STDIN` on PostgreSQL (several times faster than
    its pipelined INSERT executemany), a Core executemany elsewhere."""
    if connection.dialect.name == "postgresql":
        _copy(connection, chunk)
    else:
        connection.execute(insert(_TABLE), chunk)


def _copy(connection: Connection, chunk: Sequence[Mapping[str, Any]]) -> None:
    """COPY rows into `predictions` on the session's own psycopg connection.

    Values go through each column type's bind processor first (UTCDateTime refuses naive
    datetimes), and driver errors are re-raised as SQLAlchemy's, as `execute` would.
    """
    import psycopg
    from psycopg import sql

    dialect = connection.dialect
    columns = [_TABLE.c[name] for name in chunk[0]]
    processors = [column.type.bind_processor(dialect) for column in columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(_TABLE.name), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    )
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in chunk:
                values = [row[column.name] for column in columns]
                copy.write_row(
                    [v if f is None else f(v) for f, v in zip(processors, values, strict=True)]
                )
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            statement.as_string(driver),
            None,
            exc,
            psycopg.Error,
            dialect=dialect,
            connection_invalidated=dialect.is_disconnect(exc, driver, None),  # type: ignore[arg-type]
        ) from exc


def _where(user_id: int, filters: HistoryFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Prediction.user_id == user_id]
    if filters.label is not None:
        conditions.append(Prediction.label == filters.label)
    if filters.source is not None:
        conditions.append(Prediction.source == filters.source)
    if filters.batch_id is not None:
        conditions.append(Prediction.batch_id == filters.batch_id)
    if filters.since is not None:
        conditions.append(Prediction.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(Prediction.created_at < filters.until)
    if filters.search:
        lowered = func.lower(Prediction.text)
        conditions.append(lowered.contains(filters.search.lower(), autoescape=True))
    return conditions


def page(
    session: Session,
    user_id: int,
    filters: HistoryFilters,
    *,
    after: Cursor | None = None,
    limit: int = 50,
) -> Sequence[Prediction]:
    """Newest first; `after` continues below the last row seen (keyset, never OFFSET)."""
    conditions = _where(user_id, filters)
    if after is not None:
        conditions.append(tuple_(Prediction.created_at, Prediction.id) < tuple_(*after))
    query = (
        select(Prediction)
        .where(and_(*conditions))
        .order_by(Prediction.created_at.desc(), Prediction.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def iterate(
    session: Session, user_id: int, filters: HistoryFilters, *, page_size: int = 1_000
) -> Iterator[Prediction]:
    """Every matching row, newest first, fetched page by page (for exports)."""
    after: Cursor | None = None
    while rows := page(session, user_id, filters, after=after, limit=page_size):
        yield from rows
        after = (rows[-1].created_at, rows[-1].id)
        session.expunge_all()  # keep memory flat on large histories


def count(session: Session, user_id: int, filters: HistoryFilters) -> int:
    query = select(func.count()).select_from(Prediction).where(*_where(user_id, filters))
    return session.scalar(query) or 0


def delete_ids(session: Session, user_id: int, ids: Sequence[int]) -> int:
    """Delete the listed rows that belong to `user_id`; returns how many went."""
    if not ids:
        return 0
    query = delete(Prediction).where(Prediction.user_id == user_id, Prediction.id.in_(ids))
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def delete_matching(session: Session, user_id: int, filters: HistoryFilters) -> int:
    query = delete(Prediction).where(*_where(user_id, filters))
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def count_by_label(session: Session, user_id: int, filters: HistoryFilters) -> dict[str, int]:
    query = (
        select(Prediction.label, func.count())
        .where(*_where(user_id, filters))
        .group_by(Prediction.label)
    )
    return {label: int(n) for label, n in session.execute(query).all()}


def _utc_day(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Prediction.created_at), "YYYY-MM-DD")
    return func.date(Prediction.created_at)  # SQLite keeps UTC text: 'YYYY-MM-DD HH:MM:SS'


def counts_by_label_day_and_bin(
    session: Session, user_id: int, filters: HistoryFilters
) -> list[tuple[str, str, int, int]]:
    """(label, YYYY-MM-DD in UTC, score bin, count) in one pass over the matching rows:
    Insights derives its distribution, trend and histogram from these. Bin i holds scores
    in [i/10, (i+1)/10); a score of 1.0 is in bin 9."""
    day = _utc_day(session).label("day")
    scaled = Prediction.score * HISTOGRAM_BINS
    # CAST truncates on SQLite but rounds on PostgreSQL, which has floor() instead.
    postgres = session.get_bind().dialect.name == "postgresql"
    bucket = cast(func.floor(scaled) if postgres else scaled, Integer).label("bin")
    query = (
        select(Prediction.label, day, bucket, func.count())
        .where(*_where(user_id, filters))
        .group_by(Prediction.label, day, bucket)
    )
    return [
        (label, str(d), min(int(b), HISTOGRAM_BINS - 1), int(n))
        for label, d, b, n in session.execute(query).all()
    ]


def texts(
    session: Session,
    user_id: int,
    filters: HistoryFilters,
    *,
    every: int = 1,
    chunk: int = 10_000,
) -> Iterator[Sequence[tuple[str, str]]]:
    """(label, text) of every matching row (every `every`-th id only when > 1), streamed
    `chunk` rows at a time, in no order. Plain Core rows: ORM rows cost 3x as much."""
    table = Prediction.__table__
    query = select(table.c.label, table.c.text).where(*_where(user_id, filters))
    if every > 1:
        query = query.where(table.c.id % every == 0)
    result = session.connection().execute(query.execution_options(yield_per=chunk))
    yield from result.partitions()  # Row objects unpack like (label, text) tuples


def count_by_user(session: Session) -> dict[int, int]:
    """Predictions per user id (the admin's usage view)."""
    query = select(Prediction.user_id, func.count()).group_by(Prediction.user_id)
    return {user_id: int(n) for user_id, n in session.execute(query).all()}
