"""Restoring a backup: into an empty database, in one transaction, files last."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from alembic import command
from sqlalchemy import Connection, Table, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from errors import Conflict, DatabaseUnavailable, InvalidInput
from storage.backup.format import (
    BATCH_ROWS,
    Summary,
    check_header,
    decode_row,
    decoder,
    read_records,
    tables,
)
from storage.engine import Database
from storage.migrate import alembic_config, current_revision, head_revision


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
        column = table.autoincrement_column  # None for a text key (revoked token ids)
        if column is not None:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608
                    f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                    f'FROM "{table.name}"'
                ),
                {"table": table.name, "column": column.name},
            )


class _FileSink:
    """Restored files go to a staging folder first and into place only at `commit`."""

    def __init__(self, files_dir: Path | None, name: str) -> None:
        self._dir = files_dir
        self._name = name
        self._staging = files_dir / ".restoring" if files_dir else None
        self._open: tuple[str, IO[bytes]] | None = None
        self.names: list[str] = []

    def write(self, number: int, record: dict[str, Any]) -> None:
        file, data = record.get("file"), record.get("data")
        if not isinstance(file, str) or not isinstance(data, str):
            raise InvalidInput(f"{self._name} line {number} is not a backup record.")
        relative = Path(file)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise InvalidInput(
                f"{self._name} line {number} names the file {file!r} outside the results "
                "folder; the backup is damaged or was not written by Sentiscope."
            )
        if self._staging is None:
            return  # rows only: the caller did not ask for files
        if self._open is None or self._open[0] != file:
            self._close()
            target = self._staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            self._open = (file, target.open("wb"))
            self.names.append(file)
        try:
            self._open[1].write(base64.b64decode(data, validate=True))
        except ValueError:
            raise InvalidInput(f"{self._name} line {number} holds damaged file data.") from None

    def _close(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None

    def commit(self) -> None:
        self._close()
        if self._dir is None or self._staging is None:
            return
        for file in self.names:
            target = self._dir / file
            target.parent.mkdir(parents=True, exist_ok=True)
            (self._staging / file).replace(target)
        self.discard()

    def discard(self) -> None:
        self._close()
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)


def load_backup(
    db: Database,
    source: Iterable[str],
    name: str = "the backup",
    files_dir: Path | None = None,
) -> Summary:
    """Restore a backup read from `source` into the empty database `db`, then migrate to head.

    Its files go under `files_dir` (when given) once the rows have committed.
    Raises InvalidInput for a damaged file and Conflict if the database is not empty.
    Nothing is written unless every row and file part loads.
    """
    records = read_records(source, name)
    first = next(records, None)
    if first is None:
        raise InvalidInput(f"{name} is empty; it is not a Sentiscope backup.")
    summary = Summary(schema=check_header(first[1], name))
    _prepare_schema(db, summary.schema)
    by_name = {table.name: table for table in tables()}
    types = {table.name: decoder(table) for table in tables()}
    footer: dict[str, Any] | None = None
    files = _FileSink(files_dir, name)
    try:
        with db.engine.begin() as connection:
            pending: list[dict[str, Any]] = []
            current: Table | None = None
            for number, record in records:
                if record.get("end") is True:
                    footer = record
                    break
                if "file" in record:
                    files.write(number, record)
                    continue
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
                pending.append(decode_row(table, record["row"], types[table.name]))
                summary.rows[table.name] = summary.rows.get(table.name, 0) + 1
                if len(pending) >= BATCH_ROWS:
                    _insert(connection, table, pending)
            if current is not None:
                _insert(connection, current, pending)
            expected = (footer or {}).get("rows") or {}
            summary.files = len(files.names)
            if (
                footer is None
                or {k: v for k, v in expected.items() if v} != summary.rows
                or (files_dir is not None and footer.get("files", 0) != summary.files)
            ):
                raise InvalidInput(
                    f"{name} is incomplete (it ends before its last line, or its row counts "
                    "do not match); nothing was restored. Take the backup again."
                )
            if db.backend == "postgresql":
                _reset_sequences(connection)
    except SQLAlchemyError as exc:
        files.discard()
        raise DatabaseUnavailable(
            f"Restoring {name} failed and was rolled back: {str(exc).splitlines()[0]}"
        ) from None
    except BaseException:
        files.discard()
        raise
    files.commit()
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    summary.schema = head_revision()
    return summary


def restore(db: Database, path: Path, files_dir: Path | None = None) -> Summary:
    """Restore the backup file at `path` into the empty database `db` (files to `files_dir`)."""
    try:
        with path.open(encoding="utf-8") as source:
            return load_backup(db, source, name=str(path), files_dir=files_dir)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InvalidInput(f"Cannot read the backup {path}: {reason}.") from None
