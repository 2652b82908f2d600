"""Writing a backup: every row from one snapshot, then the results files in parts."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Table, select

from errors import InvalidInput
from storage.backup.format import BATCH_ROWS, FORMAT, VERSION, Summary, encode, tables
from storage.engine import Database

FILE_PART = 1 << 20
BLOB_ROWS = 16  # stored batch parts are up to a few hundred KB each: fetch a few at a time
SKIPPED_FOLDERS = ("tmp",)  # batches being scored: not results yet


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
            "created_at": encode(datetime.now(UTC)),
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


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    per = BLOB_ROWS if table.name == "batch_blobs" else BATCH_ROWS
    result = connection.execution_options(yield_per=per).execute(query)
    for row in result.mappings():
        yield {key: encode(value) for key, value in row.items()}


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
