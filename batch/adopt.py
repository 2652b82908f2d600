"""After a restore from the other kind of database: move the stored batch parts to where
this one keeps them.

A development-mode backup (SQLite) carries its parts as files; a PostgreSQL one carries
them as `batch_blobs` rows. Restored across, the downloads would say their parts are
missing, so `python app.py restore` moves them: files into the table on PostgreSQL, rows
into files under DATA_DIR/batches on SQLite. Parts of jobs that do not exist are left.
"""

from __future__ import annotations

from pathlib import Path

from batch.blobs import DatabaseBlobStore, FileBlobStore
from storage import jobs
from storage.engine import Database


def adopt_parts(db: Database, root: Path) -> int:
    """Move parts into this backend's store; how many were moved."""
    files = FileBlobStore(root)
    if db.backend == "postgresql":
        return _files_to_rows(db, files)
    return _rows_to_files(db, files)


def _files_to_rows(db: Database, files: FileBlobStore) -> int:
    rows = DatabaseBlobStore()
    moved: list[Path] = []
    with db.session_scope() as session:
        for job_id, user_id in jobs.owners(session).items():
            folder = files.folder(user_id, job_id)
            parts = sorted(folder.iterdir()) if folder.is_dir() else []
            for part in (p for p in parts if p.is_file() and not p.name.startswith(".")):
                rows.put(session, user_id, job_id, part.name, part.read_bytes())
                moved.append(part)
    for part in moved:  # only once the rows are committed
        part.unlink(missing_ok=True)
    return len(moved)


def _rows_to_files(db: Database, files: FileBlobStore) -> int:
    rows = DatabaseBlobStore()
    with db.session_scope() as session:
        owner = jobs.owners(session)
        keys = [(key, job_id) for key, job_id in jobs.blob_keys(session) if job_id in owner]
        for key, job_id in keys:
            name = key.removeprefix(f"{job_id}/")
            user_id = owner[job_id]
            files.put(session, user_id, job_id, name, rows.get(session, user_id, job_id, name))
        for job_id in {job_id for _key, job_id in keys}:
            jobs.delete_blobs(session, job_id)
    return len(keys)
