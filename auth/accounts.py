"""Accounts: register, log in, change the password, delete the account.

Every action writes an auth event; a wrong password counts as a failed login (see
auth/throttle.py), wherever it is typed.
"""

from __future__ import annotations

import logging
import math
import re
import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auth.account_base import (
    LOGIN_FAIL,
    LOGIN_SUCCESS,
    MFA_FAIL,
    MFA_RECOVERY_USED,
    PASSWORD_CHANGE,
    PASSWORD_CHANGE_FAIL,
    REGISTER_LOCK,
    USER_CREATED,
    USER_DELETE_FAIL,
    USER_DELETED,
    Account,
    AccountBase,
    ClientInfo,
    Login,
)
from auth.password_policy import validate_password
from auth.tokens import IssuedToken
from auth.totp import MALFORMED_CODE, WRONG_CODE, CodeKind
from errors import (
    AppError,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    MfaRequired,
    PermissionDenied,
    RateLimited,
)
from storage import users
from storage.models import User

logger = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{3,32}")

_WRONG_CREDENTIALS = "Incorrect username or password. Check both and try again."
_MFA_REQUIRED = (
    "This account uses two-factor authentication. Enter the 6-digit code from your "
    "authenticator app (or a recovery code) with your username and password."
)


def validate_username(username: str) -> str:
    username = username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "Usernames are 3 to 32 characters long and use only letters, digits, '.', '_' "
            "or '-'. Choose a username that fits."
        )
    return username


class Accounts(AccountBase):
    """Register, log in, change the password, delete the account, bootstrap the admin."""

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
            user, ok = self._recheck_password(
                session, token, current_password, PASSWORD_CHANGE_FAIL, client
            )
            if not ok:
                failure = InvalidCredentials("The current password is incorrect. Try again.")
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
            user, ok = self._recheck_password(session, token, password, USER_DELETE_FAIL, client)
            if not ok:
                failure = InvalidCredentials("The password is incorrect; the account was kept.")
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

    def _recheck_password(
        self,
        session: Session,
        token: str | None,
        password: str,
        fail_event: str,
        client: ClientInfo | None,
    ) -> tuple[User, bool]:
        """The token's user, and whether `password` is theirs.

        A password typed again (change, delete) is a login attempt: same limits, same
        lock; a wrong one is recorded as `fail_event` and counted as a failed login.
        """
        user = self._token_user(session, token)
        self._refuse_while_locked(user.username, client)
        ok = self._hasher.verify(password, user.password_hash).ok
        if not ok:
            self._event(session, fail_event, user.username, user.id, client)
            self._login_failed(session, user.username, user.id, client)
        return user, ok

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
