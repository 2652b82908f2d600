"""The account service: registration, login, logout, password change, token checks.

Both edges (REST API and Gradio UI) call these methods; the rules live here and the
repositories in `storage/` only run queries. Every account action writes an auth event.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auth.password_policy import validate_password
from auth.passwords import PasswordHasher
from auth.personal_tokens import hash_token, is_personal_token
from auth.throttle import LoginThrottle, Verdict
from auth.tokens import Clock, IssuedToken, TokenService, system_clock
from errors import (
    AppError,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    PermissionDenied,
    RateLimited,
)
from storage import api_tokens, auth_events, users
from storage.engine import Database
from storage.models import User

logger = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{3,32}")

REGISTER = "register"
LOGIN_SUCCESS = "login_success"
LOGIN_FAIL = "login_fail"
LOGOUT = "logout"
PASSWORD_CHANGE = "password_change"  # noqa: S105 - event names, not secrets
PASSWORD_CHANGE_FAIL = "password_change_fail"  # noqa: S105
ACCOUNT_DELETE = "account_delete"
ACCOUNT_DELETE_FAIL = "account_delete_fail"
# OWASP logging vocabulary: a lock begins when an account+IP or an IP hits its limit.
LOGIN_LOCK = "authn_login_lock"
REGISTER_LOCK = "authn_register_lock"

_WRONG_CREDENTIALS = "Incorrect username or password. Check both and try again."
_SESSION_ENDED = "Your session has ended (logged out or password changed). Log in again."


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

    @classmethod
    def of(cls, user: User) -> Account:
        return cls(user.id, user.username, user.is_admin, user.created_at)


@dataclass(frozen=True)
class Login:
    account: Account
    token: IssuedToken


def validate_username(username: str) -> str:
    username = username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "Usernames are 3 to 32 characters long and use only letters, digits, '.', '_' "
            "or '-'. Choose a username that fits."
        )
    return username


class AccountService:
    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        tokens: TokenService,
        clock: Clock = system_clock,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._db = db
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._throttle = throttle or LoginThrottle(clock=clock)

    def register(
        self,
        username: str,
        password: str,
        client: ClientInfo | None = None,
        *,
        is_admin: bool = False,
    ) -> Account:
        """Create an account. Raises InvalidInput for a bad name/password, Conflict if taken.

        Calls from a client IP are rate-limited per IP (RateLimited); internal callers
        (the admin bootstrap, the CLI) pass no IP and are not.
        """
        if client is not None and client.ip is not None:
            self._throttle_registration(username, client)
        username = validate_username(username)
        password_hash = self._hasher.hash(validate_password(password, username))
        taken = Conflict(f"The username {username!r} is taken. Choose another one.")
        try:
            with self._db.session_scope() as session:
                if users.get_by_username(session, username) is not None:
                    raise taken
                user = users.add(
                    session,
                    User(
                        username=username,
                        password_hash=password_hash,
                        is_admin=is_admin,
                        created_at=self._clock(),
                    ),
                )
                self._event(session, REGISTER, username, user.id, client)
                account = Account.of(user)
        except IntegrityError:
            raise taken from None  # registered concurrently by someone else
        logger.info("Registered user id=%d", account.id)
        return account

    def login(self, username: str, password: str, client: ClientInfo | None = None) -> Login:
        """Check credentials and issue a token.

        An unknown username and a wrong password raise the same InvalidCredentials after
        the same amount of hashing work, so replies do not reveal which names exist. A
        hash with outdated argon2 parameters is replaced on success.

        Raises RateLimited, before any hashing, while this account+IP or this IP is over
        its failed-login limit (see auth/throttle.py).
        """
        ip = client.ip if client else None
        blocked = self._throttle.check_login(username, ip)
        if blocked.blocked:
            logger.warning(
                "Login refused: too many failures (%s limit) for username=%r ip=%r",
                blocked.scope,
                username[:64],
                ip,
            )
            raise self._too_many_logins(blocked)
        failure: AppError | None = None
        login: Login | None = None
        with self._db.session_scope() as session:
            user = users.get_by_username(session, username.strip()[:64])
            if user is None:
                self._hasher.verify_dummy(password)
                ok = False
            else:
                check = self._hasher.verify(password, user.password_hash)
                ok = check.ok
                if check.new_hash:
                    user.password_hash = check.new_hash
            user_id = user.id if user else None
            if user is None or not ok:
                failure = InvalidCredentials(_WRONG_CREDENTIALS)
            elif user.disabled:
                failure = PermissionDenied("This account is disabled. Contact an administrator.")
            self._event(
                session, LOGIN_FAIL if failure else LOGIN_SUCCESS, username, user_id, client
            )
            if isinstance(failure, InvalidCredentials):
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
            elif failure is None:
                self._throttle.login_succeeded(username, ip)
            if user is not None and failure is None:
                login = Login(Account.of(user), self._tokens.issue(user.id, user.token_version))
        if failure is not None:
            raise failure
        assert login is not None
        return login

    def authenticate(self, token: str | None) -> Account:
        """The account a token belongs to. Raises InvalidToken if it no longer holds."""
        with self._db.session_scope() as session:
            return Account.of(self._token_user(session, token))

    def logout(self, token: str | None, client: ClientInfo | None = None) -> None:
        """End every session of this user: all tokens issued so far stop working."""
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            users.bump_token_version(session, user)
            self._event(session, LOGOUT, user.username, user.id, client)

    def change_password(
        self,
        token: str | None,
        current_password: str,
        new_password: str,
        client: ClientInfo | None = None,
    ) -> IssuedToken:
        """Replace the password, invalidate old tokens and return a fresh token.

        Raises InvalidCredentials if the current password is wrong, InvalidInput if the
        new one breaks the length rule.
        """
        failure: AppError | None = None
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            if not self._hasher.verify(current_password, user.password_hash).ok:
                failure = InvalidCredentials("The current password is incorrect. Try again.")
                self._event(session, PASSWORD_CHANGE_FAIL, user.username, user.id, client)
            else:
                new_hash = self._hasher.hash(validate_password(new_password, user.username))
                user.password_hash = new_hash
                version = users.bump_token_version(session, user)
                self._event(session, PASSWORD_CHANGE, user.username, user.id, client)
                issued = self._tokens.issue(user.id, version)
        if failure is not None:
            raise failure
        return issued

    def delete_account(
        self, token: str | None, password: str, client: ClientInfo | None = None
    ) -> None:
        """Delete the account and, by cascade, all its predictions, batches and API tokens.

        The password must be confirmed; raises InvalidCredentials if it is wrong. The
        auth events stay (without the user id) as the audit trail.
        """
        failure: AppError | None = None
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            if not self._hasher.verify(password, user.password_hash).ok:
                failure = InvalidCredentials("The password is incorrect; the account was kept.")
                self._event(session, ACCOUNT_DELETE_FAIL, user.username, user.id, client)
            else:
                self._event(session, ACCOUNT_DELETE, user.username, None, client)
                users.delete(session, user)
        if failure is not None:
            raise failure
        logger.info("Deleted user id=%d and all their data", user.id)

    def ensure_admin(self, username: str, password: str) -> None:
        """Create the bootstrap admin if missing, or make the existing user an admin."""
        with self._db.session_scope() as session:
            user = users.get_by_username(session, username)
            if user is not None:
                user.is_admin = True
                return
        self.register(username, password, ClientInfo(user_agent="bootstrap"), is_admin=True)

    def _throttle_registration(self, username: str, client: ClientInfo) -> None:
        verdict = self._throttle.register_attempt(client.ip)
        if verdict.locked_now:
            with self._db.session_scope() as session:
                self._event(session, REGISTER_LOCK, username[:64], None, client)
        if verdict.locked_now or verdict.blocked:
            logger.warning(
                "Registration %s for ip=%r (limit %d an hour)",
                "refused" if verdict.blocked else "limit reached",
                client.ip,
                self._throttle.register_rule.limit,
            )
        if verdict.blocked:
            minutes = math.ceil(verdict.retry_after / 60)
            raise RateLimited(
                f"Too many accounts were created from your address. Try again in {minutes} "
                "minute(s).",
                retry_after=verdict.retry_after,
            )

    def _too_many_logins(self, verdict: Verdict) -> RateLimited:
        minutes = math.ceil(verdict.retry_after / 60)
        return RateLimited(
            f"Too many failed logins. Wait {minutes} minute(s) before trying again; if you "
            "forgot the password, ask an administrator to reset it.",
            retry_after=verdict.retry_after,
        )

    def _token_user(self, session: Session, token: str | None) -> User:
        if not token:
            raise InvalidToken("You are not logged in. Log in to get an access token.")
        if is_personal_token(token):
            return self._personal_token_user(session, token)
        claims = self._tokens.verify(token)
        user = users.get(session, claims.user_id)
        if user is None or user.disabled or user.token_version != claims.version:
            raise InvalidToken(_SESSION_ENDED)
        return user

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
