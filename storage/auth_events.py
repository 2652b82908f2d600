"""Auth event repository: an append-only audit trail of account activity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storage.models import AuthEvent

USERNAME_LIMIT = 64
USER_AGENT_LIMIT = 512


def record(
    session: Session,
    *,
    event: str,
    username: str,
    user_id: int | None,
    client_ip: str | None,
    user_agent: str | None,
    created_at: datetime,
) -> AuthEvent:
    row = AuthEvent(
        event=event,
        # What was typed may be anything, so it is clipped to fit the column.
        username=username.lower()[:USERNAME_LIMIT],
        user_id=user_id,
        client_ip=client_ip[:64] if client_ip else None,
        user_agent=user_agent[:USER_AGENT_LIMIT] if user_agent else None,
        created_at=created_at,
    )
    session.add(row)
    session.flush()
    return row


def for_user(session: Session, user_id: int, limit: int = 100) -> Sequence[AuthEvent]:
    query = (
        select(AuthEvent)
        .where(AuthEvent.user_id == user_id)
        .order_by(AuthEvent.created_at.desc(), AuthEvent.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def for_username(session: Session, username: str, limit: int = 100) -> Sequence[AuthEvent]:
    query = (
        select(AuthEvent)
        .where(AuthEvent.username == username.lower()[:USERNAME_LIMIT])
        .order_by(AuthEvent.created_at.desc(), AuthEvent.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def recent(session: Session, limit: int = 100) -> Sequence[AuthEvent]:
    """The newest events of every user (the admin's view)."""
    query = select(AuthEvent).order_by(AuthEvent.created_at.desc(), AuthEvent.id.desc())
    return session.scalars(query.limit(limit)).all()


@dataclass(frozen=True)
class EventFilters:
    """What the admin's event list is narrowed to; None means "any"."""

    event: str | None = None
    username: str | None = None  # part of the name, case-insensitive
    client_ip: str | None = None  # the address or its beginning (a subnet)
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _like_literal(value: str) -> str:
    """`value` with LIKE's wildcards escaped, so a typed % or _ matches itself."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(query: Select[Any], filters: EventFilters) -> Select[Any]:
    if filters.event is not None:
        query = query.where(AuthEvent.event == filters.event)
    if filters.username:
        pattern = f"%{_like_literal(filters.username.lower()[:USERNAME_LIMIT])}%"
        query = query.where(AuthEvent.username.like(pattern, escape="\\"))
    if filters.client_ip:
        pattern = f"{_like_literal(filters.client_ip[:64])}%"
        query = query.where(AuthEvent.client_ip.like(pattern, escape="\\"))
    if filters.since is not None:
        query = query.where(AuthEvent.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuthEvent.created_at < filters.until)
    return query


def search(
    session: Session, filters: EventFilters, *, limit: int, offset: int = 0
) -> Sequence[AuthEvent]:
    """Matching events, newest first."""
    query = _filtered(select(AuthEvent), filters)
    query = query.order_by(AuthEvent.created_at.desc(), AuthEvent.id.desc())
    return session.scalars(query.limit(limit).offset(offset)).all()


def count(session: Session, filters: EventFilters) -> int:
    return session.scalar(_filtered(select(func.count(AuthEvent.id)), filters)) or 0


def event_names(session: Session) -> list[str]:
    """Every event name recorded so far, sorted."""
    query = select(AuthEvent.event).distinct().order_by(AuthEvent.event)
    return list(session.scalars(query).all())
