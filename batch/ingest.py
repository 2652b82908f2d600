"""What uploads read files with: the one tabular reader (sentiment.tabular), with limits.

Uploads and the CLI share the reader and the text-column guess; only uploads pass
`Limits` (MAX_UPLOAD_MB, MAX_BATCH_ROWS, MAX_BATCH_TEXT_CHARS).
"""

from __future__ import annotations

from sentiment.tabular import (
    CsvInfo,
    Limits,
    Row,
    inspect,
    iter_chunks,
    iter_rows,
    model_text,
    unique_names,
)

__all__ = [
    "CsvInfo", "Limits", "Row", "inspect", "iter_chunks", "iter_rows", "model_text", "unique_names",
]  # fmt: skip
