"""User repository: queries only; the account service owns the rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete as sa_delete
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from storage.models import RevokedToken, TotpCredential, User


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


class SessionCheck(NamedTuple):
    """What checking a login token needs to know about its user."""

    id: int
    username: str
    is_admin: bool
    created_at: datetime
    disabled: bool
    token_version: int
    revoked: bool  # the token's id was logged out
    mfa_enabled: bool


def session_check(session: Session, user_id: int, jti: str) -> SessionCheck | None:
    """The user and the token's revocation in one round trip; None if no such user."""
    revoked = exists().where(RevokedToken.jti == jti)
    mfa = exists().where(
        TotpCredential.user_id == User.id, TotpCredential.confirmed_at.is_not(None)
    )
    query = select(
        User.id,
        User.username,
        User.is_admin,
        User.created_at,
        User.disabled,
        User.token_version,
        revoked.label("revoked"),
        mfa.label("mfa_enabled"),
    ).where(User.id == user_id)
    row = session.execute(query).one_or_none()
    return SessionCheck(*row) if row is not None else None


def get_by_username(session: Session, username: str) -> User | None:
    """Case-insensitive lookup (usernames are unique regardless of case)."""
    query = select(User).where(func.lower(User.username) == username.lower())
    return session.scalars(query).one_or_none()


def add(session: Session, user: User) -> User:
    session.add(user)
    session.flush()
    return user


def bump_token_version(session: Session, user: User) -> int:
    """Invalidate every token issued so far; done in SQL so concurrent bumps both count."""
    session.execute(
        update(User).where(User.id == user.id).values(token_version=User.token_version + 1)
    )
    session.refresh(user, ["token_version"])
    return user.token_version


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def delete(session: Session, user: User) -> None:
    """Delete the user; the database cascades to their predictions, batches and tokens."""
    session.execute(sa_delete(User).where(User.id == user.id))


def all_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.id)).all()
