"""What every part of the account service stands on: who is calling, the token's user,
failed-login counting and the auth events each action writes.

`AccountService` (auth/service.py) is this base with its three parts on top: accounts
(auth/accounts.py), sessions (auth/sessions.py) and two-factor (auth/two_factor.py).
The rules live in these classes; the repositories in `storage/` only run queries.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from auth.passwords import PasswordHasher
from auth.personal_tokens import hash_token, is_personal_token
from auth.throttle import LoginThrottle, Verdict
from auth.tokens import Clock, IssuedToken, TokenClaims, TokenService, system_clock
from auth.totp import SecretBox, TwoFactor
from errors import InvalidToken, RateLimited
from storage import api_tokens, auth_events, revoked_tokens, users
from storage.engine import Database
from storage.models import User

logger = logging.getLogger(__name__)

# Auth event names from the OWASP Logging Vocabulary Cheat Sheet, or built the same way.
USER_CREATED = "user_created"
USER_DELETED = "user_deleted"
USER_DELETE_FAIL = "user_delete_fail"
LOGIN_SUCCESS = "authn_login_success"
LOGIN_FAIL = "authn_login_fail"
# A lock begins when an account+IP or an IP hits its limit.
LOGIN_LOCK = "authn_login_lock"
REGISTER_LOCK = "authn_register_lock"
TOKEN_REVOKED = "authn_token_revoked"  # noqa: S105 - event names, not secrets
TOKEN_REVOKED_ALL = "authn_token_revoked_all"  # noqa: S105
PASSWORD_CHANGE = "authn_password_change"  # noqa: S105
PASSWORD_CHANGE_FAIL = "authn_password_change_fail"  # noqa: S105
MFA_ENABLED = "authn_mfa_enabled"
MFA_DISABLED = "authn_mfa_disabled"
MFA_FAIL = "authn_mfa_fail"
MFA_RECOVERY_USED = "authn_mfa_recovery_used"

SESSION_ENDED = "Your session has ended (logged out or password changed). Log in again."


@dataclass(frozen=True)
class ClientInfo:
    """Who is calling, as recorded in auth events."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Account:
    """What the edges may show about a user (never the hash)."""

    id: int
    username: str
    is_admin: bool
    created_at: datetime
    mfa_enabled: bool = False

    @classmethod
    def of(cls, user: User, *, mfa_enabled: bool = False) -> Account:
        return cls(user.id, user.username, user.is_admin, user.created_at, mfa_enabled)


@dataclass(frozen=True)
class Login:
    account: Account
    token: IssuedToken


class AccountBase:
    """The parts' shared state and helpers; the public methods live in the parts."""

    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        tokens: TokenService,
        clock: Clock = system_clock,
        throttle: LoginThrottle | None = None,
        secret_box: SecretBox | None = None,
    ) -> None:
        self._db = db
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._throttle = throttle or LoginThrottle(clock=clock)
        # Without a box (tools that never log in), 2FA secrets would not survive a restart.
        self._mfa = TwoFactor(secret_box or SecretBox.ephemeral(), clock)
        # Run with the user id once an account is gone (its files beside the database).
        self.after_delete: list[Callable[[int], None]] = []

    def _token_user(self, session: Session, token: str | None) -> User:
        return self._token_user_and_claims(session, token)[0]

    def _token_user_and_claims(
        self, session: Session, token: str | None
    ) -> tuple[User, TokenClaims | None]:
        """The token's user, and its claims unless it is a personal API token."""
        if not token:
            raise InvalidToken("You are not logged in. Log in to get an access token.")
        if is_personal_token(token):
            return self._personal_token_user(session, token), None
        claims = self._tokens.verify(token)
        user = users.get(session, claims.user_id)
        if user is None:
            raise InvalidToken(SESSION_ENDED)
        revoked = revoked_tokens.is_revoked(session, claims.token_id)
        check_session(claims, user.disabled, user.token_version, revoked)
        return user, claims

    def _personal_token_user(self, session: Session, token: str) -> User:
        row = api_tokens.by_hash(session, hash_token(token))
        user = users.get(session, row.user_id) if row is not None else None
        if row is None or user is None or user.disabled:
            raise InvalidToken(
                "This API token is not valid (revoked or mistyped). Create a new one."
            )
        now = self._clock()
        # Recorded once a minute at most, so scripts do not turn every read into a write.
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            api_tokens.touch(session, row, now)
        return user

    def _refuse_while_locked(self, username: str, client: ClientInfo | None) -> None:
        """A password or code typed again (change, delete, 2FA off) is a login attempt."""
        blocked = self._throttle.check_login(username, client.ip if client else None)
        if blocked.blocked:
            raise self._too_many_logins(blocked)

    def _login_failed(
        self, session: Session, username: str, user_id: int | None, client: ClientInfo | None
    ) -> None:
        """Count a failed login (or 2FA check) and record the lock it may start."""
        ip = client.ip if client else None
        lock = self._throttle.login_failed(username, ip)
        if lock.blocked:
            self._event(session, LOGIN_LOCK, username, user_id, client)
            logger.warning(
                "Login lock (%s limit) for username=%r ip=%r for %d s",
                lock.scope,
                username[:64],
                ip,
                lock.retry_after,
            )

    def _too_many_logins(self, verdict: Verdict) -> RateLimited:
        minutes = math.ceil(verdict.retry_after / 60)
        return RateLimited(
            f"Too many failed logins. Wait {minutes} minute(s) before trying again; if you "
            "forgot the password, ask an administrator to reset it.",
            retry_after=verdict.retry_after,
        )

    def _event(
        self,
        session: Session,
        event: str,
        username: str,
        user_id: int | None,
        client: ClientInfo | None,
    ) -> None:
        client = client or ClientInfo()
        auth_events.record(
            session,
            event=event,
            username=username.strip(),
            user_id=user_id,
            client_ip=client.ip,
            user_agent=client.user_agent,
            created_at=self._clock(),
        )


def check_session(claims: TokenClaims, disabled: bool, version: int, revoked: bool) -> None:
    """A login token holds while its account is enabled, its version is the account's
    (no password change or "log out everywhere" since) and it was not logged out."""
    if disabled or version != claims.version or revoked:
        raise InvalidToken(SESSION_ENDED)
