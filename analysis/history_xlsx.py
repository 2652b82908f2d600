"""A user's history as an Excel workbook: the CSV export's columns, no cell a formula.

Rows are read in one pass (newest first) and written in constant memory
(sentiment/xlsxwrite.py); texts are string cells, so `=cmd|...` stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sentiment.xlsxwrite import XlsxTable
from storage import predictions
from storage.engine import Database
from storage.predictions import HistoryFilters


def write_history_xlsx(
    db: Database, user_id: int, filters: HistoryFilters, path: Path, columns: Sequence[str]
) -> Path:
    """Every prediction of `user_id` matching `filters` into the workbook at `path`, under
    the CSV export's `columns` (analysis.history.CSV_COLUMNS, whose order this follows)."""
    table = XlsxTable(path, columns, sheet="history", tmpdir=path.parent)
    with table, db.session_scope() as session:
        for row in predictions.iterate(session, user_id, filters):
            table.write(
                [
                    row.id,
                    row.created_at.isoformat(sep=" ", timespec="seconds"),
                    row.label,
                    row.score,
                    row.prob_negative,
                    row.prob_neutral,
                    row.prob_positive,
                    row.source,
                    row.batch_id,
                    row.model_id,
                    row.text,
                ]
            )
    return path
