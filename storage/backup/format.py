"""The backup file's records: header, rows, footer, and how values are written in them.

See storage/backup/__init__.py for the layout of a file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import LargeBinary, Table

from errors import InvalidInput
from storage.models import Base, UTCDateTime

FORMAT = "sentiscope-backup"
VERSION = 2
READABLE_VERSIONS = (1, 2)
BATCH_ROWS = 1000


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


def encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, bytes | memoryview):  # stored batch parts (batch_blobs.data)
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def decoder(table: Table) -> dict[str, Any]:
    return {c.name: c.type for c in table.columns}


def decode_row(table: Table, row: dict[str, Any], types: dict[str, Any]) -> dict[str, Any]:
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


def read_records(source: Iterable[str], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
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


def check_header(record: dict[str, Any], name: str) -> str | None:
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
