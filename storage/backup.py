"""Backup and restore every table in one portable JSON-lines file, on either backend.

The file is plain text, one JSON object per line:

    {"format": "sentiscope-backup", "version": 1, "schema": "0001", ...}   header
    {"table": "users", "row": {"id": 1, "username": "ada", ...}}           one per row
    {"end": true, "rows": {"users": 1, ...}}                               footer

Tables come parent first (users before predictions), rows in primary-key order, with
their ids; datetimes are ISO 8601 in UTC with microseconds, so a PostgreSQL backup
restored on SQLite (and back) gives the same rows, ids and timestamps. Every table of
the schema is included, so tables added by later migrations are covered without changes
here. A restore only goes into an empty database and runs in one transaction; on
PostgreSQL the id sequences are moved past the restored ids afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Table, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from errors import Conflict, DatabaseUnavailable, InvalidInput
from storage.engine import Database
from storage.migrate import alembic_config, current_revision, head_revision
from storage.models import Base, UTCDateTime

FORMAT = "sentiscope-backup"
VERSION = 1
BATCH_ROWS = 1000


@dataclass
class Summary:
    """What a backup wrote or a restore loaded: rows per table."""

    schema: str | None
    rows: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        counts = ", ".join(f"{count} {name}" for name, count in self.rows.items())
        return f"{counts or 'no rows'} (schema revision {self.schema})"


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(Base.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def _decoder(table: Table) -> dict[str, Any]:
    return {c.name: c.type for c in table.columns}


def _decode_row(table: Table, row: dict[str, Any], types: dict[str, Any]) -> dict[str, Any]:
    unknown = set(row) - set(types)
    if unknown:
        raise InvalidInput(
            f"The backup has columns {sorted(unknown)} in table {table.name} that this "
            "schema does not know. Restore it with the Sentiscope version that wrote it."
        )
    decoded = {}
    for name, value in row.items():
        if value is not None and isinstance(types[name], UTCDateTime):
            value = datetime.fromisoformat(value)
        decoded[name] = value
    return decoded


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(query)
    for row in result.mappings():
        yield {key: _encode(value) for key, value in row.items()}


def write_backup(db: Database, out: IO[str]) -> Summary:
    """Write every row of `db` to `out`; on PostgreSQL from one consistent snapshot."""
    options = {"isolation_level": "REPEATABLE READ"} if db.backend == "postgresql" else {}
    with db.engine.connect().execution_options(**options) as connection:
        summary = Summary(schema=current_revision_of(connection))
        header = {
            "format": FORMAT,
            "version": VERSION,
            "schema": summary.schema,
            "source": db.backend,
            "created_at": _encode(datetime.now(UTC)),
            "tables": [table.name for table in tables()],
        }
        out.write(json.dumps(header) + "\n")
        for table in tables():
            count = 0
            for row in _rows(connection, table):
                out.write(json.dumps({"table": table.name, "row": row}, ensure_ascii=False))
                out.write("\n")
                count += 1
            summary.rows[table.name] = count
        out.write(json.dumps({"end": True, "rows": summary.rows}) + "\n")
    return summary


def current_revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def backup(db: Database, path: Path) -> Summary:
    """Write a backup file at `path` (replaced only once the backup is complete)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            summary = write_backup(db, out)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInput(
            f"Cannot write the backup to {path}: {exc.strerror or exc}. Choose a writable path."
        ) from None
    return summary


def _lines(source: Iterable[str], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise InvalidInput(
                f"{name} line {number} is not valid JSON; the file is damaged or not a "
                "Sentiscope backup."
            ) from None
        if not isinstance(record, dict):
            raise InvalidInput(f"{name} line {number} is not a backup record.")
        yield number, record


def _check_header(record: dict[str, Any], name: str) -> str | None:
    if record.get("format") != FORMAT:
        raise InvalidInput(f"{name} is not a Sentiscope backup (its first line has no header).")
    if record.get("version") != VERSION:
        raise InvalidInput(
            f"{name} has backup format version {record.get('version')}; this Sentiscope "
            f"reads version {VERSION}. Restore it with the version that wrote it."
        )
    schema = record.get("schema")
    return schema if isinstance(schema, str) else None


def is_empty(connection: Connection) -> bool:
    """True when no table of the schema exists yet or every one of them has no rows."""
    existing = set(inspect(connection).get_table_names())
    return not any(
        connection.scalar(select(func.count()).select_from(table))
        for table in tables()
        if table.name in existing
    )


def _prepare_schema(db: Database, schema: str | None) -> None:
    """Bring an empty database to the backup's revision (so its rows fit exactly)."""
    with db.engine.connect() as connection:
        if not is_empty(connection):
            raise Conflict(
                f"The {db.backend} database already has rows; restore only goes into an "
                "empty database. Point DATABASE_URL (or DATA_DIR) at a new, empty "
                "database and run the restore again."
            )
    at = current_revision(db.engine)
    if schema is None:
        raise InvalidInput("The backup does not say which schema revision it was taken at.")
    if at not in (None, schema):
        raise Conflict(
            f"The empty database is at schema revision {at}, the backup at {schema}. "
            "Restore into a brand-new database (no tables), which is then migrated for it."
        )
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), schema)


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(table.insert(), rows)
        rows.clear()


def _reset_sequences(connection: Connection) -> None:
    """Move each PostgreSQL id sequence past the highest restored id."""
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is False:
                continue
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608
                    f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                    f'FROM "{table.name}"'
                ),
                {"table": table.name, "column": column.name},
            )


def load_backup(db: Database, source: Iterable[str], name: str = "the backup") -> Summary:
    """Restore a backup read from `source` into the empty database `db`, then migrate to head.

    Raises InvalidInput for a damaged file and Conflict if the database is not empty.
    Nothing is written unless every row loads.
    """
    records = _lines(source, name)
    first = next(records, None)
    if first is None:
        raise InvalidInput(f"{name} is empty; it is not a Sentiscope backup.")
    summary = Summary(schema=_check_header(first[1], name))
    _prepare_schema(db, summary.schema)
    by_name = {table.name: table for table in tables()}
    types = {table.name: _decoder(table) for table in tables()}
    footer: dict[str, Any] | None = None
    try:
        with db.engine.begin() as connection:
            pending: list[dict[str, Any]] = []
            current: Table | None = None
            for number, record in records:
                if record.get("end") is True:
                    footer = record
                    break
                table = by_name.get(str(record.get("table")))
                if table is None or not isinstance(record.get("row"), dict):
                    raise InvalidInput(
                        f"{name} line {number} names an unknown table "
                        f"{record.get('table')!r}; restore it with the version that wrote it."
                    )
                if table is not current:
                    if current is not None:
                        _insert(connection, current, pending)
                    current = table
                pending.append(_decode_row(table, record["row"], types[table.name]))
                summary.rows[table.name] = summary.rows.get(table.name, 0) + 1
                if len(pending) >= BATCH_ROWS:
                    _insert(connection, table, pending)
            if current is not None:
                _insert(connection, current, pending)
            expected = (footer or {}).get("rows") or {}
            if footer is None or {k: v for k, v in expected.items() if v} != summary.rows:
                raise InvalidInput(
                    f"{name} is incomplete (it ends before its last line, or its row counts "
                    "do not match); nothing was restored. Take the backup again."
                )
            if db.backend == "postgresql":
                _reset_sequences(connection)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(
            f"Restoring {name} failed and was rolled back: {str(exc).splitlines()[0]}"
        ) from None
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    summary.schema = head_revision()
    return summary


def restore(db: Database, path: Path) -> Summary:
    """Restore the backup file at `path` into the empty database `db`."""
    try:
        with path.open(encoding="utf-8") as source:
            return load_backup(db, source, name=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InvalidInput(f"Cannot read the backup {path}: {reason}.") from None
