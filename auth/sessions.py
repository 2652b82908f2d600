"""Sessions: which account a token belongs to, log out, log out everywhere.

A login token is revoked alone by its id (logout) or with all its siblings by bumping
the user's token version (logout everywhere, a password change); personal API tokens
are revoked by deleting them (auth/personal_tokens.py).
"""

from __future__ import annotations

from auth.account_base import (
    SESSION_ENDED,
    TOKEN_REVOKED,
    TOKEN_REVOKED_ALL,
    Account,
    AccountBase,
    ClientInfo,
    check_session,
)
from auth.personal_tokens import is_personal_token
from errors import InvalidInput, InvalidToken
from storage import revoked_tokens, users


class Sessions(AccountBase):
    """The token's account, and ending one login session or all of them."""

    def authenticate(self, token: str | None) -> Account:
        """The account a token belongs to. Raises InvalidToken if it no longer holds.

        Every request pays for it, so a login token is checked in one query (user,
        revocation and 2FA together) outside a transaction (`Database.read_scope`)."""
        if not token or is_personal_token(token):
            with self._db.session_scope() as session:
                user = self._token_user(session, token)
                return Account.of(user, mfa_enabled=self._mfa.is_enabled(session, user.id))
        claims = self._tokens.verify(token)
        with self._db.read_scope() as session:
            row = users.session_check(session, claims.user_id, claims.token_id)
        if row is None:
            raise InvalidToken(SESSION_ENDED)
        check_session(claims, row.disabled, row.token_version, row.revoked)
        return Account(row.id, row.username, row.is_admin, row.created_at, row.mfa_enabled)

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
