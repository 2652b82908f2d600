"""Personal API tokens: long-lived secrets a user creates for scripts, shown once.

Only the SHA-256 of a token is stored. A token is 32 random bytes, so a plain hash is
enough (no salt or slow hash needed: there is nothing to guess). Tokens start with
`PREFIX` so that `AccountService.authenticate` can tell them from login JWTs.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from auth.tokens import Clock, system_clock
from errors import InvalidInput, NotFound
from storage import api_tokens
from storage.engine import Database
from storage.models import ApiToken

PREFIX = "sst_"
NAME_MAX = 64
MAX_TOKENS_PER_USER = 20


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_personal_token(token: str) -> bool:
    return token.startswith(PREFIX)


@dataclass(frozen=True)
class TokenInfo:
    """What a user may see about a token after creation: never the secret."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> TokenInfo:
        return cls(row.id, row.name, row.prefix, row.created_at, row.last_used_at)


@dataclass(frozen=True)
class NewToken:
    info: TokenInfo
    token: str  # the secret, returned exactly once


class PersonalTokenService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    def create(self, user_id: int, name: str) -> NewToken:
        """Create a token named `name`. Raises InvalidInput for a bad name or too many tokens."""
        name = " ".join(name.split())
        if not 1 <= len(name) <= NAME_MAX:
            raise InvalidInput(f"Give the token a name of 1 to {NAME_MAX} characters.")
        token = PREFIX + secrets.token_urlsafe(32)
        with self._db.session_scope() as session:
            if api_tokens.count_for_user(session, user_id) >= MAX_TOKENS_PER_USER:
                raise InvalidInput(
                    f"You already have {MAX_TOKENS_PER_USER} tokens. Revoke one you no longer "
                    "use, then create the new one."
                )
            row = api_tokens.add(
                session,
                ApiToken(
                    user_id=user_id,
                    name=name,
                    token_hash=hash_token(token),
                    prefix=token[: len(PREFIX) + 6],
                    created_at=self._clock(),
                ),
            )
            return NewToken(TokenInfo.of(row), token)

    def list(self, user_id: int) -> list[TokenInfo]:
        with self._db.session_scope() as session:
            return [TokenInfo.of(row) for row in api_tokens.for_user(session, user_id)]

    def revoke(self, user_id: int, token_id: int) -> None:
        """Delete one of the user's tokens. Raises NotFound if it is not theirs or is gone."""
        with self._db.session_scope() as session:
            if not api_tokens.delete_for_user(session, user_id, token_id):
                raise NotFound(
                    f"You have no API token with id {token_id}. List your tokens to see them."
                )
