"""Two-factor authentication: set it up, confirm it, turn it off.

The codes themselves (TOTP, recovery codes, the sealed secrets) are auth/totp.py's;
logging in with a code is part of `Accounts.login` (auth/accounts.py).
"""

from __future__ import annotations

import logging

from auth.account_base import MFA_DISABLED, MFA_ENABLED, MFA_FAIL, AccountBase, ClientInfo
from auth.totp import MALFORMED_CODE, WRONG_CODE, TotpSetup
from errors import AppError, Conflict, InvalidCredentials, InvalidInput

logger = logging.getLogger(__name__)


class TwoFactorSwitch(AccountBase):
    """Turn two-factor authentication on (start, confirm) and off."""

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
        failure: AppError | None = None
        with self._db.session_scope() as session:
            user = self._token_user(session, token)
            if not self._mfa.is_enabled(session, user.id):
                raise Conflict("Two-factor authentication is not on; there is nothing to turn off.")
            if self._mfa.is_malformed(code):
                raise InvalidInput(MALFORMED_CODE)
            self._refuse_while_locked(user.username, client)
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
