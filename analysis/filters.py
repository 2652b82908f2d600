"""Turn what a user typed into validated history filters and opaque paging cursors."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, time, timedelta

from errors import InvalidInput
from storage.models import LABELS, MAX_BIG_ID, SOURCES, as_row_id
from storage.predictions import Cursor, HistoryFilters

SEARCH_MAX = 200
ANY = ("", "all", "any")


def _choice(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    if value is None or value.strip().lower() in ANY:
        return None
    value = value.strip().lower()
    if value not in allowed:
        raise InvalidInput(f"Unknown {what} {value!r}; use one of: {', '.join(allowed)}.")
    return value


def _day(value: date | str | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidInput(f"The {what} date {value!r} is not a date; use YYYY-MM-DD.") from None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def make_filters(
    *,
    label: str | None = None,
    source: str | None = None,
    batch_id: int | str | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    search: str | None = None,
) -> HistoryFilters:
    """Validated filters. Dates are whole UTC days and both ends are inclusive.

    Blank values and "all" mean "do not filter". Raises InvalidInput saying what to fix.
    """
    first, last = _day(since, "from"), _day(until, "to")
    if first and last and first > last:
        raise InvalidInput("The 'from' date is after the 'to' date; swap them.")
    if isinstance(batch_id, str):
        batch_id = batch_id.strip() or None
    batch = as_row_id(batch_id) if batch_id is not None else None
    if batch_id is not None and batch is None:
        raise InvalidInput(
            f"The batch {batch_id!r} is not a batch number; use the number the Batch tab "
            "showed (1 or more)."
        )
    search = (search or "").strip() or None
    if search and len(search) > SEARCH_MAX:
        raise InvalidInput(f"Search for at most {SEARCH_MAX} characters.")
    return HistoryFilters(
        label=_choice(label, LABELS, "label"),
        source=_choice(source, SOURCES, "source"),
        batch_id=batch,
        since=_start_of(first) if first else None,
        until=_start_of(last + timedelta(days=1)) if last else None,
        search=search,
    )


def encode_cursor(cursor: Cursor) -> str:
    created_at, row_id = cursor
    raw = f"{created_at.astimezone(UTC).isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> Cursor | None:
    """The cursor from `encode_cursor`; raises InvalidInput for anything else."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        created, _, row_id = raw.partition("|")
        when = datetime.fromisoformat(created)
        last_id = as_row_id(row_id, MAX_BIG_ID)
        if when.tzinfo is None or last_id is None:
            raise ValueError
        return when, last_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput(
            "The paging cursor is not valid; start again without one and use the "
            "next_cursor the previous page returned."
        ) from None
