"""The results file of a done job, produced from what is stored, one chunk at a time.

The input columns plus label, score, per-class probabilities, `truncated` and `language`
(batch/export.py's RESULT_COLUMNS), every cell made safe for spreadsheets. Nothing is built
whole in memory: the CSV is yielded chunk by chunk, each read in its own short transaction.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from batch.blobs import BlobStore, input_name, output_name, unpack
from batch.export import ENCODING, ResultWriter
from storage.engine import Database
from storage.models import LABELS, BatchJob


def _chunk_csv(
    rows: list[list[Any]], payload: dict[str, Any], index: int, writer: ResultWriter
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
        with db.session_scope() as session:
            rows = unpack(blobs.get(session, job.user_id, job.id, input_name(number)))
            payload = unpack(blobs.get(session, job.user_id, job.id, output_name(number)))
        _chunk_csv(rows, payload, details["text_index"], writer)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def unsupported_rows(db: Database, blobs: BlobStore, job: BatchJob) -> int:
    """Rows confidently in a language the model does not read, over the stored parts
    (each part counts its own in `unsupported`; parts from before the check count 0)."""
    total = 0
    for number in range(job.chunk_count):
        with db.session_scope() as session:
            payload = unpack(blobs.get(session, job.user_id, job.id, output_name(number)))
        total += int(payload.get("unsupported", 0))
    return total
