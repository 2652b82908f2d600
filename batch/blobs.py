"""Where a job's upload and results are kept: one small interface, two stores.

A job's upload is stored as its chunks' rows (`in-00000`, ...) and each scored chunk's
results beside them (`out-00000`, ...), every part JSON compressed with zlib. On
PostgreSQL the parts are rows of `batch_blobs`, written in the same transaction as the
chunk's state, so every process reads them and a Space that loses its disk keeps its
downloads; in development mode they are files under `DATA_DIR/batches`. An
S3-compatible store would implement the same four methods.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from errors import NotFound
from storage import jobs

COMPRESSION = 6
MISSING = (
    "Part {name} of batch job {job_id} is not stored here; the batch's rows are still in "
    "your history (export them there)."
)


def pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode("utf-8"), COMPRESSION)


def unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


def input_name(chunk: int) -> str:
    return f"in-{chunk:05d}"


def output_name(chunk: int) -> str:
    return f"out-{chunk:05d}"


class BlobStore(Protocol):
    """`session` is the caller's transaction: a database store writes inside it."""

    def put(self, session: Session, user_id: int, job_id: str, name: str, data: bytes) -> None:
        """Store (or replace) one part."""

    def get(self, session: Session, user_id: int, job_id: str, name: str) -> bytes:
        """One part; NotFound if it is not there (never stored, or removed)."""

    def remove_job(self, session: Session | None, user_id: int, job_id: str) -> None:
        """Every part of a job."""

    def remove_user(self, user_id: int) -> None:
        """Every part of a deleted user's jobs that the database did not take with it."""


class DatabaseBlobStore:
    """Parts as rows of `batch_blobs` (they go with their job row, and its user's)."""

    def put(self, session: Session, user_id: int, job_id: str, name: str, data: bytes) -> None:
        jobs.put_blob(session, job_id, f"{job_id}/{name}", data)

    def get(self, session: Session, user_id: int, job_id: str, name: str) -> bytes:
        data = jobs.get_blob(session, f"{job_id}/{name}")
        if data is None:
            raise NotFound(MISSING.format(name=name, job_id=job_id))
        return data

    def remove_job(self, session: Session | None, user_id: int, job_id: str) -> None:
        if session is not None:
            jobs.delete_blobs(session, job_id)

    def remove_user(self, user_id: int) -> None:
        return None  # ON DELETE CASCADE did it


class FileBlobStore:
    """Parts as files `root/user-U/job-J/NAME`, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, user_id: int, job_id: str) -> Path:
        return self.root / f"user-{user_id}" / f"job-{job_id}"

    def put(self, session: Session, user_id: int, job_id: str, name: str, data: bytes) -> None:
        folder = self.folder(user_id, job_id)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.{os.getpid()}.part"
        partial.write_bytes(data)
        os.replace(partial, folder / name)

    def get(self, session: Session, user_id: int, job_id: str, name: str) -> bytes:
        try:
            return (self.folder(user_id, job_id) / name).read_bytes()
        except FileNotFoundError:
            raise NotFound(MISSING.format(name=name, job_id=job_id)) from None

    def remove_job(self, session: Session | None, user_id: int, job_id: str) -> None:
        shutil.rmtree(self.folder(user_id, job_id), ignore_errors=True)

    def remove_user(self, user_id: int) -> None:
        shutil.rmtree(self.root / f"user-{user_id}", ignore_errors=True)

    def orphans(self, known: set[str]) -> list[Path]:
        """Job folders whose job row no longer exists (an interrupted deletion)."""
        return [
            folder
            for folder in self.root.glob("user-*/job-*")
            if folder.is_dir() and folder.name.removeprefix("job-") not in known
        ]
