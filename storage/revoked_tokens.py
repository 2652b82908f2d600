"""Revoked access-token ids: queries only; the account service owns the rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import RevokedToken


def add(session: Session, jti: str, user_id: int, expires_at: datetime) -> None:
    """Record `jti` as revoked, once: logging out twice with one token is not an error."""
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, user_id=user_id, expires_at=expires_at))
        session.flush()


def is_revoked(session: Session, jti: str) -> bool:
    query = select(RevokedToken.jti).where(RevokedToken.jti == jti)
    return session.scalar(query) is not None


def prune(session: Session, now: datetime) -> int:
    """Forget revocations of tokens that have expired anyway; returns how many."""
    result = session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]
