"""Auth event repository: an append-only audit trail of account activity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
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
