"""The rows a done job got wrong against the user's labels, streamed from what is stored.

The input columns plus `gold_label`, `predicted_label` and `score`, one stored chunk at
a time (as batch/results.py streams the full results), every cell made safe for
spreadsheets. Rows with an empty or unmapped label are not evaluated, so not listed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from batch.blobs import BlobStore, input_name, output_name, unpack
from batch.evaluation import normal_value
from batch.export import ENCODING, sanitize
from batch.ingest import unique_names
from storage.engine import Database
from storage.models import LABELS, BatchJob

ADDED_COLUMNS = ("gold_label", "predicted_label", "score")


def _wrong(
    rows: list[list[Any]], payload: dict[str, Any], details: dict[str, Any]
) -> Iterator[list[str]]:
    text_index, label_index = details["text_index"], details["label_index"]
    label_map: dict[str, str] = details["label_map"]
    results = iter(payload["results"])
    for _line, cells in rows:
        if not cells[text_index].strip():
            continue
        label, score, *_ = next(results)
        gold = label_map.get(normal_value(cells[label_index]))
        if gold is not None and gold != LABELS[label]:
            yield [*cells, gold, LABELS[label], f"{score:.6f}"]


def stream_misclassified(db: Database, blobs: BlobStore, job: BatchJob) -> Iterator[bytes]:
    """The misclassified rows as a UTF-8 CSV (with a BOM, for Excel), in byte blocks."""
    details = json.loads(job.details)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([sanitize(n) for n in unique_names([*details["columns"], *ADDED_COLUMNS])])
    yield "\ufeff".encode() if ENCODING == "utf-8-sig" else b""
    for number in range(job.chunk_count):
        with db.session_scope() as session:
            rows = unpack(blobs.get(session, job.user_id, job.id, input_name(number)))
            payload = unpack(blobs.get(session, job.user_id, job.id, output_name(number)))
        for row in _wrong(rows, payload, details):
            writer.writerow([sanitize(cell) for cell in row])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
