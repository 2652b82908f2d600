"""Backup and restore every table in one portable JSON-lines file, on either backend.

The file is plain text, one JSON object per line:

    {"format": "sentiscope-backup", "version": 1, "schema": "0001", ...}   header
    {"table": "users", "row": {"id": 1, "username": "ada", ...}}           one per row
    {"file": "user-1/batch-3.csv", "data": "<base64>"}                     file parts
    {"end": true, "rows": {"users": 1, ...}, "files": 1}                   footer

Tables come parent first (users before predictions), rows in primary-key order, with
their ids; datetimes are ISO 8601 in UTC with microseconds, so a PostgreSQL backup
restored on SQLite (and back) gives the same rows, ids and timestamps. Every table of
the schema is included, so tables added by later migrations are covered without changes
here. A restore only goes into an empty database and runs in one transaction; on
PostgreSQL the id sequences are moved past the restored ids afterwards.

Files kept beside the database (the batch results CSVs under DATA_DIR/batches) travel in
the same file, in parts of FILE_PART bytes; a restore writes them into place only after
the rows have committed. Version 1 backups (no files) still restore.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, LargeBinary, Table, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from errors import Conflict, DatabaseUnavailable, InvalidInput
from storage.engine import Database
from storage.migrate import alembic_config, current_revision, head_revision
from storage.models import Base, UTCDateTime

FORMAT = "sentiscope-backup"
VERSION = 2
READABLE_VERSIONS = (1, 2)
BATCH_ROWS = 1000
FILE_PART = 1 << 20
SKIPPED_FOLDERS = ("tmp",)  # batches being scored: not results yet


@dataclass
class Summary:
    """What a backup wrote or a restore loaded: rows per table."""

    schema: str | None
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0

    def describe(self) -> str:
        counts = ", ".join(f"{count} {name}" for name, count in self.rows.items())
        files = f" and {self.files} results file(s)" if self.files else ""
        return f"{counts or 'no rows'}{files} (schema revision {self.schema})"


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(Base.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, bytes | memoryview):  # stored batch parts (batch_blobs.data)
        return base64.b64encode(bytes(value)).decode("ascii")
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
        elif value is not None and isinstance(types[name], LargeBinary):
            value = base64.b64decode(value)
        decoded[name] = value
    return decoded


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(query)
    for row in result.mappings():
        yield {key: _encode(value) for key, value in row.items()}


def write_backup(db: Database, out: IO[str], files_dir: Path | None = None) -> Summary:
    """Write every row of `db` to `out`; on PostgreSQL from one consistent snapshot.

    Every file under `files_dir` (but its tmp folder) follows the rows.
    """
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
        if files_dir is not None:
            summary.files = _write_files(files_dir, out)
        footer = {"end": True, "rows": summary.rows, "files": summary.files}
        out.write(json.dumps(footer) + "\n")
    return summary


def _kept_files(files_dir: Path) -> list[Path]:
    return sorted(
        path
        for path in files_dir.rglob("*")
        if path.is_file() and path.relative_to(files_dir).parts[0] not in SKIPPED_FOLDERS
    )


def _write_files(files_dir: Path, out: IO[str]) -> int:
    count = 0
    for path in _kept_files(files_dir) if files_dir.is_dir() else []:
        name = path.relative_to(files_dir).as_posix()
        with path.open("rb") as f:
            while True:
                part = f.read(FILE_PART)
                data = base64.b64encode(part).decode("ascii")
                out.write(json.dumps({"file": name, "data": data}) + "\n")
                if len(part) < FILE_PART:
                    break
        count += 1
    return count


def current_revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def backup(db: Database, path: Path, files_dir: Path | None = None) -> Summary:
    """Write a backup file at `path` (replaced only once the backup is complete)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            summary = write_backup(db, out, files_dir)
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
    if record.get("version") not in READABLE_VERSIONS:
        raise InvalidInput(
            f"{name} has backup format version {record.get('version')}; this Sentiscope "
            f"reads versions {', '.join(map(str, READABLE_VERSIONS))}. Restore it with the "
            "version that wrote it."
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
    records = _lines(source, name)
    first = next(records, None)
    if first is None:
        raise InvalidInput(f"{name} is empty; it is not a Sentiscope backup.")
    summary = Summary(schema=_check_header(first[1], name))
    _prepare_schema(db, summary.schema)
    by_name = {table.name: table for table in tables()}
    types = {table.name: _decoder(table) for table in tables()}
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
                pending.append(_decode_row(table, record["row"], types[table.name]))
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
