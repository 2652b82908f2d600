"""Turn an accepted upload into a durable job: check it, store it in chunks, queue them.

Everything that can be wrong with a file is found by `inspect` before anything is
stored; then, in one transaction, the job row, its chunk rows, the stored input parts
(on PostgreSQL) and the engine's tasks are written together, so a job either exists with
all its work queued or not at all.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from batch.blobs import BlobStore, FileBlobStore, input_name, pack
from batch.engine import JobEngine
from batch.ingest import CsvInfo, Limits, iter_rows
from batch.jobs import JobView, view
from batch.labels import LabelPlan
from storage import jobs
from storage.engine import Database
from storage.models import BatchJob, utcnow

# A chunk holds at most this many characters of text, so that a chunk of long reviews
# takes about as long as one of tweets (and a worker asked to stop is free soon).
CHUNK_CHARS = 200_000


def details_of(info: CsvInfo, limits: Limits, labels: LabelPlan | None = None) -> dict[str, object]:
    """What the job keeps of `inspect`'s findings and the label plan (JSON-ready)."""
    found = asdict(info)
    found.pop("preview", None)
    return {
        **found,
        "delimiter_name": info.delimiter_name,
        "text_index": info.text_index,
        "max_chars": limits.max_chars,
        **(labels.details() if labels is not None else {}),
    }


def split(
    path: Path, info: CsvInfo, limits: Limits, chunk_rows: int
) -> Iterator[tuple[list[list[object]], int]]:
    """(rows, texts to score) per chunk; a row is [line, cells]. One chunk in memory."""
    rows: list[list[object]] = []
    texts = chars = 0
    for row in iter_rows(path, info, limits):
        rows.append([row.line, row.cells])
        if row.text:
            texts += 1
            chars += len(row.text)
        if texts >= chunk_rows or chars >= CHUNK_CHARS:
            yield rows, texts
            rows, texts, chars = [], 0, 0
    if rows:
        yield rows, texts


def submit(
    db: Database,
    blobs: BlobStore,
    engine: JobEngine,
    *,
    user_id: int,
    path: Path,
    filename: str,
    info: CsvInfo,
    limits: Limits,
    chunk_rows: int,
    files_days: int,
    labels: LabelPlan | None = None,
) -> JobView:
    """Store the upload as chunks and queue them; the job starts `queued`."""
    job_id = secrets.token_hex(12)
    now = utcnow()
    try:
        with db.session_scope() as session:
            job = BatchJob(
                id=job_id,
                user_id=user_id,
                filename=filename[:255],
                text_column=info.text_column[:255],
                details=json.dumps(details_of(info, limits, labels)),
                status="queued",
                total_rows=info.to_score,
                rows_done=0,
                chunk_count=0,
                chunks_done=0,
                count_negative=0,
                count_neutral=0,
                count_positive=0,
                truncated=0,
                score_sum=0.0,
                created_at=now,
                files_expire_at=now + timedelta(days=files_days),
                files_removed=False,
            )
            session.add(job)
            session.flush()
            sizes: list[int] = []
            for number, (rows, texts) in enumerate(split(path, info, limits, chunk_rows)):
                blobs.put(session, user_id, job_id, input_name(number), pack(rows))
                sizes.append(texts)
            job.chunk_count = len(sizes)
            jobs.add_chunks(session, job_id, sizes)
            engine.enqueue(session, job_id, list(range(len(sizes))))
            session.flush()
            shown = view(job, now)
    except BaseException:
        if isinstance(blobs, FileBlobStore):
            blobs.remove_job(None, user_id, job_id)
        raise
    return shown
