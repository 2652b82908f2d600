"""A user's history: keyset pages, deletes and CSV export, always scoped to that user."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analysis.filters import decode_cursor, encode_cursor
from analysis.history_xlsx import write_history_xlsx
from batch.export import sanitize
from errors import InvalidInput
from storage import predictions
from storage.engine import Database
from storage.models import Prediction
from storage.predictions import HistoryFilters

PAGE_MAX = 200
CSV_COLUMNS = (
    "id",
    "created_at",
    "label",
    "score",
    "negative",
    "neutral",
    "positive",
    "source",
    "batch_id",
    "model",
    "text",
)


@dataclass(frozen=True)
class HistoryRow:
    id: int
    created_at: datetime
    text: str
    label: str
    score: float
    probabilities: dict[str, float]
    source: str
    batch_id: int | None
    model: str

    @classmethod
    def of(cls, row: Prediction) -> HistoryRow:
        probabilities = {
            "negative": row.prob_negative,
            "neutral": row.prob_neutral,
            "positive": row.prob_positive,
        }
        return cls(
            row.id,
            row.created_at,
            row.text,
            row.label,
            row.score,
            probabilities,
            row.source,
            row.batch_id,
            row.model_id,
        )


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    next_cursor: str | None  # None on the last page


class HistoryService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def page(
        self,
        user_id: int,
        filters: HistoryFilters,
        *,
        cursor: str | None = None,
        limit: int = 50,
    ) -> HistoryPage:
        """Newest first. Pass the previous page's `next_cursor` to continue.

        Raises InvalidInput for a malformed cursor or a limit outside 1..PAGE_MAX.
        """
        if not 1 <= limit <= PAGE_MAX:
            raise InvalidInput(f"Ask for 1 to {PAGE_MAX} rows per page.")
        after = decode_cursor(cursor)
        with self._db.read_scope() as session:
            # One extra row says whether another page follows.
            rows = predictions.page(session, user_id, filters, after=after, limit=limit + 1)
            shown = [HistoryRow.of(row) for row in rows[:limit]]
        more = len(rows) > limit
        last = shown[-1] if shown else None
        next_cursor = encode_cursor((last.created_at, last.id)) if more and last else None
        return HistoryPage(shown, next_cursor)

    def count(self, user_id: int, filters: HistoryFilters) -> int:
        with self._db.session_scope() as session:
            return predictions.count(session, user_id, filters)

    def delete(self, user_id: int, ids: Sequence[int]) -> int:
        """Delete the user's rows among `ids`; ids of other users' rows are ignored."""
        with self._db.session_scope() as session:
            return predictions.delete_ids(session, user_id, list(ids))

    def delete_all(self, user_id: int) -> int:
        """Delete the user's whole history (every source, every batch)."""
        with self._db.session_scope() as session:
            return predictions.delete_matching(session, user_id, HistoryFilters())

    def export_xlsx(self, user_id: int, filters: HistoryFilters, path: Path) -> Path:
        """The matching rows as an .xlsx at `path` (the CSV's columns, newest first)."""
        return write_history_xlsx(self._db, user_id, filters, path, CSV_COLUMNS)

    def export_csv(self, user_id: int, filters: HistoryFilters) -> Iterator[str]:
        """The matching rows as CSV text, header first, yielded in chunks (newest first)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        with self._db.session_scope() as session:
            for n, row in enumerate(predictions.iterate(session, user_id, filters), start=1):
                writer.writerow(
                    (
                        row.id,
                        row.created_at.isoformat(),
                        row.label,
                        f"{row.score:.4f}",
                        f"{row.prob_negative:.4f}",
                        f"{row.prob_neutral:.4f}",
                        f"{row.prob_positive:.4f}",
                        row.source,
                        row.batch_id if row.batch_id is not None else "",
                        row.model_id,
                        sanitize(row.text),
                    )
                )
                if n % 500 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()
