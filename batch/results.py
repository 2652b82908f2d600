"""The results file of a done job, produced from what is stored, one chunk at a time.

The input columns plus label, score, per-class probabilities, `truncated` and `language`
(batch/export.py's RESULT_COLUMNS), every cell made safe for spreadsheets. Nothing is built
whole in memory: the CSV is yielded chunk by chunk, each read in its own short
transaction; the .xlsx is written the same way into a file (xlsxwriter's constant-memory
mode), then streamed.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from batch.blobs import BlobStore, input_name, output_name, unpack
from batch.export import ENCODING, ResultWriter, XlsxResultWriter
from storage.engine import Database
from storage.models import LABELS, BatchJob

_BLOCK = 1 << 16


class _Writer(Protocol):
    def write(
        self,
        cells: Sequence[str],
        label: str = "",
        probabilities: dict[str, float] | None = None,
        score: float | None = None,
        truncated: bool = False,
        language: str | None = None,
    ) -> None: ...


def _chunk_rows(
    rows: list[list[Any]], payload: dict[str, Any], index: int, writer: _Writer
) -> None:
    results = iter(payload["results"])
    # Parts stored before the language check have no `languages`.
    languages = iter(payload.get("languages") or [None] * len(payload["results"]))
    for _line, cells in rows:
        if not cells[index].strip():
            writer.write(cells)
            continue
        result, language = next(results), next(languages)
        if result is None:  # LANGUAGE_POLICY=skip: not scored, only its language shown
            writer.write(cells, language=language)
            continue
        label, score, negative, neutral, positive, cut = result
        probabilities = {"negative": negative, "neutral": neutral, "positive": positive}
        writer.write(cells, LABELS[label], probabilities, score, bool(cut), language)


def stream_csv(db: Database, blobs: BlobStore, job: BatchJob) -> Iterator[bytes]:
    """The results CSV as UTF-8 (with a BOM, for Excel) byte blocks."""
    details = json.loads(job.details)
    buffer = io.StringIO()
    writer = ResultWriter(buffer, details["columns"])
    yield "\ufeff".encode() if ENCODING == "utf-8-sig" else b""
    for number in range(job.chunk_count):
        rows, payload = _stored(db, blobs, job, number)
        _chunk_rows(rows, payload, details["text_index"], writer)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _stored(
    db: Database, blobs: BlobStore, job: BatchJob, number: int
) -> tuple[list[list[Any]], dict[str, Any]]:
    with db.session_scope() as session:
        rows = unpack(blobs.get(session, job.user_id, job.id, input_name(number)))
        payload = unpack(blobs.get(session, job.user_id, job.id, output_name(number)))
    return rows, payload


def write_xlsx(db: Database, blobs: BlobStore, job: BatchJob, path: Path) -> Path:
    """The results as an .xlsx at `path`, written chunk by chunk in constant memory."""
    details = json.loads(job.details)
    writer = XlsxResultWriter(path, details["columns"], tmpdir=path.parent)
    try:
        for number in range(job.chunk_count):
            rows, payload = _stored(db, blobs, job, number)
            _chunk_rows(rows, payload, details["text_index"], writer)
    finally:
        writer.close()
    return path


def stream_xlsx(db: Database, blobs: BlobStore, job: BatchJob, folder: Path) -> Iterator[bytes]:
    """The results .xlsx in byte blocks: written to a private file in `folder` first (a
    workbook is a zip, complete only when closed), which is removed once sent."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"results-{secrets.token_hex(12)}.xlsx"
    try:
        write_xlsx(db, blobs, job, path)
        with path.open("rb") as f:
            while block := f.read(_BLOCK):
                yield block
    finally:
        path.unlink(missing_ok=True)


def unsupported_rows(db: Database, blobs: BlobStore, job: BatchJob) -> int:
    """Rows confidently in a language the model does not read, over the stored parts
    (each part counts its own in `unsupported`; parts from before the check count 0)."""
    total = 0
    for number in range(job.chunk_count):
        _rows, payload = _stored(db, blobs, job, number)
        total += int(payload.get("unsupported", 0))
    return total
