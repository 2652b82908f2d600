"""What an admin sees: users, their usage, the auth event audit trail. Admins only."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from auth.service import Account
from errors import InvalidInput, PermissionDenied
from storage import auth_events, predictions, users
from storage.auth_events import EventFilters
from storage.engine import Database

EVENTS_PAGE_MAX = 500
FILTER_MAX = 64


@dataclass(frozen=True)
class UserUsage:
    id: int
    username: str
    is_admin: bool
    disabled: bool
    created_at: datetime
    predictions: int


@dataclass(frozen=True)
class EventRow:
    created_at: datetime
    event: str
    username: str
    client_ip: str | None
    id: int = 0
    user_id: int | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Overview:
    users: list[UserUsage]
    events: list[EventRow]


@dataclass(frozen=True)
class EventPage:
    """One page of matching events, newest first, and how many match in all."""

    rows: list[EventRow]
    total: int
    offset: int
    limit: int

    @property
    def has_older(self) -> bool:
        return self.offset + len(self.rows) < self.total

    def describe(self) -> str:
        """`123 matching events; showing 1–50, newest first.`"""
        if not self.rows:
            return f"{self.total:,} matching events; none on this page."
        shown = f"{self.offset + 1:,}–{self.offset + len(self.rows):,}"
        return f"{self.total:,} matching events; showing {shown}, newest first."


def inert(value: str | None) -> str:
    """`value` with control and line/paragraph separator characters written as escapes.

    Usernames in events are whatever was typed at login; a CR/LF or U+2028 shown as is
    could forge what looks like another row. `\\r\\n` makes them visible instead.
    """
    if not value:
        return value or ""
    out = []
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            named = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}.get(char)
            out.append(named or f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def _day(value: date | str | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"The {what} date {value[:20]!r} is not a date; use YYYY-MM-DD."
        ) from None


def _text(value: str | None, what: str) -> str | None:
    value = (value or "").strip()
    if len(value) > FILTER_MAX:
        raise InvalidInput(f"The {what} filter is at most {FILTER_MAX} characters; shorten it.")
    return value or None


def make_event_filters(
    *,
    event: str | None = None,
    username: str | None = None,
    client_ip: str | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
) -> EventFilters:
    """Validated filters; dates are whole UTC days, both ends inclusive; blank or "all" = any.

    Raises InvalidInput saying what to fix.
    """
    first, last = _day(since, "from"), _day(until, "to")
    if first and last and first > last:
        raise InvalidInput("The 'from' date is after the 'to' date; swap them.")
    chosen = _text(event, "event")
    return EventFilters(
        event=None if chosen is None or chosen.lower() in ("all", "any") else chosen,
        username=_text(username, "username"),
        client_ip=_text(client_ip, "client IP"),
        since=datetime.combine(first, time(), tzinfo=UTC) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC) if last else None,
    )


def _require_admin(account: Account) -> None:
    if not account.is_admin:
        raise PermissionDenied(
            "Only administrators can see this. Ask an administrator if you need the audit log."
        )


class AdminService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def overview(self, account: Account, *, events: int = 100) -> Overview:
        """Users with prediction counts and the newest auth events.

        Raises PermissionDenied unless `account` is an admin.
        """
        return Overview(
            self.users(account), self.events(account, EventFilters(), limit=events).rows
        )

    def users(self, account: Account) -> list[UserUsage]:
        """Every user with their prediction count. Raises PermissionDenied for non-admins."""
        _require_admin(account)
        with self._db.session_scope() as session:
            usage = predictions.count_by_user(session)
            return [
                UserUsage(
                    u.id, u.username, u.is_admin, u.disabled, u.created_at, usage.get(u.id, 0)
                )
                for u in users.all_users(session)
            ]

    def events(
        self, account: Account, filters: EventFilters, *, offset: int = 0, limit: int = 50
    ) -> EventPage:
        """Auth events matching `filters`, newest first, `limit` from `offset`, and the total.

        Raises PermissionDenied unless `account` is an admin, InvalidInput for a bad page.
        """
        _require_admin(account)
        if not 1 <= limit <= EVENTS_PAGE_MAX or offset < 0:
            raise InvalidInput(
                f"Ask for 1 to {EVENTS_PAGE_MAX} events from an offset of 0 or more."
            )
        with self._db.session_scope() as session:
            found = auth_events.search(session, filters, limit=limit, offset=offset)
            rows = [
                EventRow(
                    e.created_at, e.event, e.username, e.client_ip, e.id, e.user_id, e.user_agent
                )
                for e in found
            ]
            total = auth_events.count(session, filters)
        return EventPage(rows, total, offset, limit)

    def event_names(self, account: Account) -> list[str]:
        """The event types recorded so far (for the filter's choices). Admins only."""
        _require_admin(account)
        with self._db.session_scope() as session:
            return auth_events.event_names(session)
