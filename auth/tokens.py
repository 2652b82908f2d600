"""Access tokens: JWTs signed with HS256 through python-jose, algorithms always pinned."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jose import JWTError, jwt

from errors import InvalidToken

ALGORITHM = "HS256"
CLOCK_SKEW = timedelta(minutes=1)  # tolerated between app processes' clocks
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int  # seconds
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    version: int
    token_id: str
    issued_at: datetime
    expires_at: datetime


class TokenService:
    """Issues and verifies tokens; the previous key still verifies until its tokens expire."""

    def __init__(
        self,
        secret_key: str,
        *,
        previous_key: str | None = None,
        ttl: timedelta = timedelta(hours=24),
        clock: Clock = system_clock,
    ) -> None:
        if not secret_key:
            raise ValueError("secret_key must not be empty")
        self._key = secret_key
        self._verification_keys = [secret_key] + ([previous_key] if previous_key else [])
        self._ttl = ttl
        self._clock = clock

    def issue(self, user_id: int, version: int) -> IssuedToken:
        now = self._clock()
        claims = {
            "sub": str(user_id),
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "ver": version,
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        return IssuedToken(access_token=token, expires_in=int(self._ttl.total_seconds()))

    def verify(self, token: str) -> TokenClaims:
        """Return the claims of a valid token; raise InvalidToken for anything else."""
        try:
            # jose tries each key in the list; `algorithms` pinned so the header cannot
            # pick "none" or another algorithm. Expiry is checked below against our clock.
            claims = jwt.decode(
                token,
                self._verification_keys,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "verify_iat": False, "verify_aud": False},
            )
            # Strict: a float or boolean `sub` must not round to another user id, and a
            # huge one must not overflow the database integer.
            sub, version = claims["sub"], claims["ver"]
            if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) < 19):
                raise ValueError("sub")
            if any(type(claims[name]) is not int for name in ("ver", "iat", "exp")):
                raise ValueError("ver, iat and exp must be integers")
            user_id = int(sub)
            token_id = str(claims["jti"])
            issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
            expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        except (JWTError, KeyError, TypeError, ValueError):
            raise InvalidToken(_INVALID) from None
        now = self._clock()
        if now >= expires_at:
            raise InvalidToken("Your session has expired. Log in again to get a new token.")
        if issued_at > now + CLOCK_SKEW:  # a token from the future was not issued by us
            raise InvalidToken(_INVALID)
        return TokenClaims(user_id, version, token_id, issued_at, expires_at)


_INVALID = "The access token is invalid. Log in again to get a new token."
