"""The account service: registration, login, logout, password change, two-factor
authentication, token checks.

Both edges (REST API and Gradio UI) call these methods; the rules live here and the
repositories in `storage/` only run queries. Every account action writes an auth event.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auth.password_policy import validate_password
from auth.passwords import PasswordHasher
from auth.personal_tokens import hash_token, is_personal_token
from auth.throttle import LoginThrottle, Verdict
from auth.tokens import Clock, IssuedToken, TokenClaims, TokenService, system_clock
from auth.totp import MALFORMED_CODE, WRONG_CODE, CodeKind, SecretBox, TotpSetup, TwoFactor
from errors import (
    AppError,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    MfaRequired,
    PermissionDenied,
    RateLimited,
)
from storage import api_tokens, auth_events, revoked_tokens, users
from storage.engine import Database
from storage.models import User

logger = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{3,32}")

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

_WRONG_CREDENTIALS = "Incorrect username or password. Check both and try again."
_SESSION_ENDED = "Your session has ended (logged out or password changed). Log in again."
_MFA_REQUIRED = (
    "This account uses two-factor authentication. Enter the 6-digit code from your "
    "authenticator app (or a recovery code) with your username and password."
)


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
                        # Random, so a token of a deleted account can never match an
                        # account that gets its id again (SQLite reuses the highest id).
                        token_version=secrets.randbelow(2**30),
                        created_at=self._clock(),
                    ),
                )
                self._event(session, USER_CREATED, username, user.id, client)
                account = Account.of(user)
        except IntegrityError:
            raise taken from None  # registered concurrently by someone else
        logger.info("Registered user id=%d", account.id)
        return account

    def login(
        self,
        username: str,
        password: str,
        client: ClientInfo | None = None,
        *,
        otp: str | None = None,
    ) -> Login:
        """Check credentials (and the two-factor code, if the account has 2FA) and issue a token.

        An unknown username and a wrong password raise the same InvalidCredentials after
        the same amount of hashing work, so replies do not reveal which names exist. A
        hash with outdated argon2 parameters is replaced on success.

        With 2FA on and the password right: no `otp` raises MfaRequired; a malformed one
        InvalidInput; a wrong, reused or used-up one InvalidCredentials, which counts as a
        failed login. A recovery code works once in place of the TOTP code.

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
            mfa_enabled = False
            events = [LOGIN_FAIL]
            if user is None or not ok:
                failure = InvalidCredentials(_WRONG_CREDENTIALS)
            elif user.disabled:
                failure = PermissionDenied("This account is disabled. Contact an administrator.")
            else:
                mfa_enabled = self._mfa.is_enabled(session, user.id)
                failure, events = (
                    self._second_factor(session, user.id, otp)
                    if mfa_enabled
                    else (None, [LOGIN_SUCCESS])
                )
            for event in events:
                self._event(session, event, username, user_id, client)
            if isinstance(failure, InvalidCredentials):
                self._login_failed(session, username, user_id, client)
            elif failure is None:
                self._throttle.login_succeeded(username, ip)
            if user is not None and failure is None:
                account = Account.of(user, mfa_enabled=mfa_enabled)
                login = Login(account, self._tokens.issue(user.id, user.token_version))
        if failure is not None:
            raise failure
        assert login is not None
        return login

    def _second_factor(
        self, session: Session, user_id: int, otp: str | None
    ) -> tuple[AppError | None, list[str]]:
        """The login's failure (None when the code is accepted) and the events to record."""
        if not (otp or "").strip():
            return MfaRequired(_MFA_REQUIRED), []
        if self._mfa.is_malformed(otp):
            return InvalidInput(MALFORMED_CODE), []
        used = self._mfa.check(session, user_id, otp or "")
        if used is CodeKind.RECOVERY:
            return None, [MFA_RECOVERY_USED, LOGIN_SUCCESS]
        if used is CodeKind.TOTP:
            return None, [LOGIN_SUCCESS]
        return InvalidCredentials(WRONG_CODE), [MFA_FAIL]

    def authenticate(self, token: str | None) -> Account:
        """The account a token belongs to. Raises InvalidToken if it no longer holds."""
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            return Account.of(user, mfa_enabled=self._mfa.is_enabled(session, user.id))

    def logout(self, token: str | None, client: ClientInfo | None = None) -> None:
        """End this session only: this token stops working, the user's other logins do not.

        Raises InvalidInput for a personal API token: those are revoked by deleting them.
        """
        if token and is_personal_token(token):
            raise InvalidInput(
                "Logging out ends a login session; a personal API token is revoked by "
                "deleting it (Account tab, or DELETE /api/tokens/{id})."
            )
        with self._db.session_scope() as session:
            user, claims = self._token_user_and_claims(session, token)
            assert claims is not None
            # Rows of expired tokens are no longer needed: each logout sweeps them.
            revoked_tokens.prune(session, self._clock())
            revoked_tokens.add(session, claims.token_id, user.id, claims.expires_at)
            self._event(session, TOKEN_REVOKED, user.username, user.id, client)

    def logout_everywhere(self, token: str | None, client: ClientInfo | None = None) -> None:
        """End every login session of this user; personal API tokens keep working."""
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            users.bump_token_version(session, user)
            self._event(session, TOKEN_REVOKED_ALL, user.username, user.id, client)

    def start_two_factor(self, token: str | None) -> TotpSetup:
        """A new TOTP secret to scan; 2FA is on only once confirm_two_factor accepts a code.

        Raises Conflict when 2FA is already on. Starting again replaces a pending secret.
        """
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            return self._mfa.start(session, user.id, user.username)

    def confirm_two_factor(
        self, token: str | None, code: str, client: ClientInfo | None = None
    ) -> list[str]:
        """Turn 2FA on with a current code from the app; returns 10 one-time recovery codes.

        The codes are shown once: only their hashes are kept. Raises Conflict without a
        pending setup or with 2FA already on, InvalidInput for a malformed code and
        InvalidCredentials for a wrong one; nothing is written then.
        """
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            codes = self._mfa.confirm(session, user.id, code)
            self._event(session, MFA_ENABLED, user.username, user.id, client)
        logger.info("Two-factor authentication on for user id=%d", user.id)
        return codes

    def disable_two_factor(
        self, token: str | None, password: str, code: str, client: ClientInfo | None = None
    ) -> None:
        """Turn 2FA off; needs the password and a current code (or a recovery code).

        Raises Conflict when 2FA is not on and InvalidInput for a malformed code (nothing
        written); a wrong password or code raises InvalidCredentials, is recorded as
        authn_mfa_fail and counts as a failed login for the throttle.
        """
        ip = client.ip if client else None
        failure: AppError | None = None
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            if not self._mfa.is_enabled(session, user.id):
                raise Conflict("Two-factor authentication is not on; there is nothing to turn off.")
            if self._mfa.is_malformed(code):
                raise InvalidInput(MALFORMED_CODE)
            blocked = self._throttle.check_login(user.username, ip)
            if blocked.blocked:
                raise self._too_many_logins(blocked)
            if not self._hasher.verify(password, user.password_hash).ok:
                failure = InvalidCredentials("The password is incorrect; two-factor stays on.")
            elif self._mfa.check(session, user.id, code) is None:
                failure = InvalidCredentials(WRONG_CODE)
            if failure is not None:
                self._event(session, MFA_FAIL, user.username, user.id, client)
                self._login_failed(session, user.username, user.id, client)
            else:
                self._mfa.remove(session, user.id)
                self._event(session, MFA_DISABLED, user.username, user.id, client)
        if failure is not None:
            raise failure
        logger.info("Two-factor authentication off for user id=%d", user.id)

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
            self._refuse_while_locked(user.username, client)
            if not self._hasher.verify(current_password, user.password_hash).ok:
                failure = InvalidCredentials("The current password is incorrect. Try again.")
                self._event(session, PASSWORD_CHANGE_FAIL, user.username, user.id, client)
                self._login_failed(session, user.username, user.id, client)
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
            self._refuse_while_locked(user.username, client)
            if not self._hasher.verify(password, user.password_hash).ok:
                failure = InvalidCredentials("The password is incorrect; the account was kept.")
                self._event(session, USER_DELETE_FAIL, user.username, user.id, client)
                self._login_failed(session, user.username, user.id, client)
            else:
                self._event(session, USER_DELETED, user.username, None, client)
                users.delete(session, user)
        if failure is not None:
            raise failure
        logger.info("Deleted user id=%d and all their data", user.id)
        for hook in self.after_delete:
            try:
                hook(user.id)
            except OSError:  # the files stay until the next start-up's sweep
                logger.exception("Clean-up after deleting user id=%d failed", user.id)

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

    def _refuse_while_locked(self, username: str, client: ClientInfo | None) -> None:
        """A password re-check (change, delete) is a login attempt: same limits, same lock."""
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
        if (
            user is None
            or user.disabled
            or user.token_version != claims.version
            or revoked_tokens.is_revoked(session, claims.token_id)
        ):
            raise InvalidToken(_SESSION_ENDED)
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
