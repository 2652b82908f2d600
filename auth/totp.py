"""Two-factor authentication: TOTP codes (RFC 6238, via pyotp) and one-time recovery codes.

The secret is stored encrypted with a key derived from SECRET_KEY (SECRET_KEY_PREVIOUS
still decrypts after a rotation, and a successful use re-encrypts with the new key).
Recovery codes are stored as SHA-256 hashes only: they carry 80 random bits each, so a
slow password hash is not needed. A code is accepted at most once: the 30-second step of
the last accepted TOTP code is kept, and a used recovery code is marked used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from enum import Enum

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from auth.tokens import Clock
from errors import Conflict, InvalidCredentials, InvalidInput
from storage import totp as totp_store

logger = logging.getLogger(__name__)

ISSUER = "Sentiscope"
PERIOD = 30  # seconds per code
DRIFT_STEPS = 1  # codes of the previous and next step are accepted too (clock drift)
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case
_RECOVERY_LENGTH = 16  # 80 bits

_TOTP_FORMAT = re.compile(r"[0-9]{6}")  # not \d: that takes other scripts' digits too
_RECOVERY_FORMAT = re.compile(f"[{_RECOVERY_ALPHABET}]{{{_RECOVERY_LENGTH}}}")

MALFORMED_CODE = (
    "Enter the 6-digit code from your authenticator app, or one of your recovery codes "
    "(16 letters and digits)."
)
WRONG_CODE = (
    "The two-factor code is wrong or was already used. Enter the current 6-digit code "
    "from your authenticator app, or an unused recovery code."
)


class CodeKind(Enum):
    TOTP = "totp"
    RECOVERY = "recovery"


@dataclass(frozen=True)
class TotpSetup:
    """What a user needs to add the account to an authenticator app."""

    secret: str  # base32, for typing in by hand
    uri: str  # otpauth://totp/...
    qr_svg: str  # the URI as a QR code: an SVG data URI, usable as an <img src>


class SecretBox:
    """Encrypts TOTP secrets at rest with keys derived from the app's secret keys."""

    def __init__(self, secret_key: str, previous_key: str | None = None) -> None:
        keys = [secret_key] + ([previous_key] if previous_key else [])
        self._fernet = MultiFernet([Fernet(_derive(key)) for key in keys])

    @classmethod
    def ephemeral(cls) -> SecretBox:
        """A box with a random key: for tools and tests that never need a restart."""
        return cls(secrets.token_urlsafe(32))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The secret, or None when no current key decrypts it (SECRET_KEY changed)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    def reseal(self, sealed: str) -> str:
        """Re-encrypt with the current key (after a rotation)."""
        return self._fernet.rotate(sealed.encode()).decode()


def _derive(key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sentiscope totp v1")
    return base64.urlsafe_b64encode(hkdf.derive(key.encode()))


def _normalise(code: str | None) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def parse_code(code: str | None) -> tuple[CodeKind, str] | None:
    """A typed code, normalised (spaces and dashes dropped), or None if it fits no format."""
    cleaned = _normalise(code)
    if _TOTP_FORMAT.fullmatch(cleaned):
        return CodeKind.TOTP, cleaned
    if _RECOVERY_FORMAT.fullmatch(cleaned):
        return CodeKind.RECOVERY, cleaned
    return None


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    """Ten fresh codes, shown as xxxx-xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def matching_step(secret: str, code: str, timestamp: float) -> int | None:
    """The time step whose code equals `code`, within the drift window, or None."""
    totp = pyotp.TOTP(secret, interval=PERIOD)
    now_step = int(timestamp) // PERIOD
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * PERIOD), code):
            return step
    return None


def new_setup(username: str) -> TotpSetup:
    secret = pyotp.random_base32()  # 160 bits
    uri = pyotp.TOTP(secret, interval=PERIOD).provisioning_uri(name=username, issuer_name=ISSUER)
    qr_svg = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return TotpSetup(secret=secret, uri=uri, qr_svg=qr_svg)


class TwoFactor:
    """The rules of two-factor codes, inside the caller's session (the account service's)."""

    def __init__(self, box: SecretBox, clock: Clock) -> None:
        self._box = box
        self._clock = clock

    def is_enabled(self, session: Session, user_id: int) -> bool:
        return totp_store.is_enabled(session, user_id)

    @staticmethod
    def is_malformed(code: str | None) -> bool:
        return parse_code(code) is None

    def start(self, session: Session, user_id: int, username: str) -> TotpSetup:
        """A new pending secret (replacing a pending one). Conflict if 2FA is already on."""
        if totp_store.is_enabled(session, user_id):
            raise Conflict(
                "Two-factor authentication is already on. Turn it off first to move it to "
                "another device."
            )
        setup = new_setup(username)
        totp_store.start(session, user_id, self._box.seal(setup.secret), self._clock())
        return setup

    def confirm(self, session: Session, user_id: int, code: str) -> list[str]:
        """Turn 2FA on once the user proves their app works; returns the recovery codes.

        Raises Conflict without a pending setup or when 2FA is on already, InvalidInput
        for a malformed code, InvalidCredentials for a wrong one; nothing is written then.
        """
        row = totp_store.get(session, user_id)
        if row is not None and row.confirmed_at is not None:
            raise Conflict("Two-factor authentication is already on.")
        secret = self._box.open(row.secret_encrypted) if row is not None else None
        if secret is None:
            raise Conflict(
                "Start two-factor setup first (Set up two-factor authentication), then "
                "enter the code your app shows."
            )
        parsed = parse_code(code)
        if parsed is None or parsed[0] is not CodeKind.TOTP:
            raise InvalidInput("Enter the 6-digit code your authenticator app shows now.")
        step = matching_step(secret, parsed[1], self._clock().timestamp())
        if step is None:
            raise InvalidCredentials(
                "That code does not match. Check that your device's clock is right and "
                "enter the code your app shows now."
            )
        assert row is not None
        row.confirmed_at = self._clock()
        row.last_used_step = step
        codes = new_recovery_codes()
        totp_store.replace_recovery_codes(session, user_id, map(hash_recovery_code, codes))
        return codes

    def check(self, session: Session, user_id: int, code: str) -> CodeKind | None:
        """Consume a valid code of an enrolled user: the kind used, or None if refused."""
        parsed = parse_code(code)
        row = totp_store.get(session, user_id)
        if parsed is None or row is None or row.confirmed_at is None:
            return None
        kind, value = parsed
        if kind is CodeKind.RECOVERY:
            used = totp_store.use_recovery_code(
                session, user_id, hash_recovery_code(value), self._clock()
            )
            return kind if used else None
        secret = self._box.open(row.secret_encrypted)
        if secret is None:
            logger.warning(
                "TOTP secret of user id=%d cannot be decrypted (SECRET_KEY changed without "
                "SECRET_KEY_PREVIOUS); only recovery codes work for them",
                user_id,
            )
            return None
        step = matching_step(secret, value, self._clock().timestamp())
        if step is None or not totp_store.claim_step(session, user_id, step):
            return None
        row.secret_encrypted = self._box.reseal(row.secret_encrypted)
        return kind

    def remove(self, session: Session, user_id: int) -> None:
        totp_store.remove(session, user_id)

    def recovery_codes_left(self, session: Session, user_id: int) -> int:
        return totp_store.unused_recovery_codes(session, user_id)
