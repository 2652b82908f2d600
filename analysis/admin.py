"""What an admin sees: users, their usage, recent account activity. Admins only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auth.service import Account
from errors import PermissionDenied
from storage import auth_events, predictions, users
from storage.engine import Database


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


@dataclass(frozen=True)
class Overview:
    users: list[UserUsage]
    events: list[EventRow]


class AdminService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def overview(self, account: Account, *, events: int = 100) -> Overview:
        """Users with prediction counts and the newest auth events.

        Raises PermissionDenied unless `account` is an admin.
        """
        if not account.is_admin:
            raise PermissionDenied("Only administrators can see this.")
        with self._db.session_scope() as session:
            usage = predictions.count_by_user(session)
            rows = [
                UserUsage(
                    u.id, u.username, u.is_admin, u.disabled, u.created_at, usage.get(u.id, 0)
                )
                for u in users.all_users(session)
            ]
            recent = [
                EventRow(e.created_at, e.event, e.username, e.client_ip)
                for e in auth_events.recent(session, events)
            ]
        return Overview(rows, recent)
