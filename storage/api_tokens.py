"""Personal API token repository: queries only; the token service owns the rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ApiToken


def add(session: Session, token: ApiToken) -> ApiToken:
    session.add(token)
    session.flush()
    return token


def by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def for_user(session: Session, user_id: int) -> Sequence[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return session.scalars(query).all()


def count_for_user(session: Session, user_id: int) -> int:
    return len(for_user(session, user_id))


def delete_for_user(session: Session, user_id: int, token_id: int) -> bool:
    """Delete one of `user_id`'s tokens; False when no such token of theirs exists."""
    query = delete(ApiToken).where(ApiToken.user_id == user_id, ApiToken.id == token_id)
    return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]


def touch(session: Session, token: ApiToken, when: datetime) -> None:
    token.last_used_at = when
