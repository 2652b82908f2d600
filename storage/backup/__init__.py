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

The parts: format.py (the records), writer.py (`backup`, `write_backup`) and
restorer.py (`restore`, `load_backup`).
"""

from storage.backup.format import Summary, tables
from storage.backup.restorer import is_empty, load_backup, restore
from storage.backup.writer import backup, current_revision_of, write_backup

__all__ = [
    "Summary",
    "backup",
    "current_revision_of",
    "is_empty",
    "load_backup",
    "restore",
    "tables",
    "write_backup",
]
