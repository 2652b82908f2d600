"""Two-factor credentials and recovery codes: queries only; auth/totp.py owns the rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import RecoveryCode, TotpCredential


def get(session: Session, user_id: int) -> TotpCredential | None:
    return session.get(TotpCredential, user_id)


def is_enabled(session: Session, user_id: int) -> bool:
    query = select(TotpCredential.user_id).where(
        TotpCredential.user_id == user_id, TotpCredential.confirmed_at.is_not(None)
    )
    return session.scalar(query) is not None


def start(session: Session, user_id: int, secret_encrypted: str, now: datetime) -> None:
    """Store a pending (unconfirmed) secret, replacing an earlier pending one."""
    row = session.get(TotpCredential, user_id)
    if row is None:
        session.add(
            TotpCredential(user_id=user_id, secret_encrypted=secret_encrypted, created_at=now)
        )
    else:
        row.secret_encrypted = secret_encrypted
        row.created_at = now
        row.confirmed_at = None
        row.last_used_step = None
    session.flush()


def claim_step(session: Session, user_id: int, step: int) -> bool:
    """Record `step` as used unless it, or a later one, already was (atomic: no replay)."""
    query = (
        update(TotpCredential)
        .where(
            TotpCredential.user_id == user_id,
            or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step),
        )
        .values(last_used_step=step)
    )
    return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]


def remove(session: Session, user_id: int) -> None:
    """Delete the credential and every recovery code of the user."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id))


def replace_recovery_codes(session: Session, user_id: int, hashes: Iterable[str]) -> None:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in hashes)
    session.flush()


def use_recovery_code(session: Session, user_id: int, code_hash: str, now: datetime) -> bool:
    """Mark an unused code of this user as used; False if there is none (atomic)."""
    query = (
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]


def unused_recovery_codes(session: Session, user_id: int) -> int:
    query = select(func.count()).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
    )
    return session.scalar(query) or 0
