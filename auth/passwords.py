"""Password hashing: argon2id through the passlib API (the maintained libpass distribution)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from passlib.context import CryptContext

# OWASP / ASVS 4.0 11.4.2 minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


@dataclass(frozen=True)
class Verification:
    ok: bool
    new_hash: str | None = None  # set when the stored hash uses outdated parameters


class PasswordHasher:
    """Hashes and verifies passwords; flags hashes made with weaker parameters."""

    def __init__(
        self,
        memory_kib: int = MEMORY_KIB,
        time_cost: int = TIME_COST,
        parallelism: int = PARALLELISM,
    ) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            deprecated="auto",
            argon2__type="ID",
            argon2__memory_cost=memory_kib,
            argon2__time_cost=time_cost,
            argon2__parallelism=parallelism,
        )
        # Verifying unknown usernames against this keeps their timing equal to a real check.
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        return self._context.hash(password)

    def verify(self, password: str, stored_hash: str) -> Verification:
        """Check a password; if it matches an outdated hash, also return a fresh hash."""
        ok, new_hash = self._context.verify_and_update(password, stored_hash)
        return Verification(ok=bool(ok), new_hash=new_hash if ok else None)

    def verify_dummy(self, password: str) -> None:
        """Spend the same work as `verify` when there is no user to check against."""
        self._context.verify_and_update(password, self._dummy_hash)
