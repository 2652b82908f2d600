"""The key that signs access tokens when SECRET_KEY is unset: a development key kept in
DATA_DIR, created once, so logins survive a restart.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from errors import ConfigError

logger = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 32
GENERATE_KEY_COMMAND = 'python -c "import secrets; print(secrets.token_hex(32))"'
DEV_SECRET_FILENAME = "secret_key"  # noqa: S105 - a file name


def warn_if_short(key: str) -> None:
    if len(key) < MIN_SECRET_KEY_LENGTH:
        logger.warning(
            "SECRET_KEY is shorter than %d characters; generate a strong one with %s",
            MIN_SECRET_KEY_LENGTH,
            GENERATE_KEY_COMMAND,
        )


def development_key(data_dir: Path) -> str:
    """The development key kept in `data_dir` (mode 0600), created on first use.

    Raises ConfigError, with the fix, when it cannot be kept there.
    """
    path = data_dir / DEV_SECRET_FILENAME
    try:
        key = _read_or_create_key(path)
    except OSError as exc:
        raise ConfigError(
            f"SECRET_KEY is not set and the development key cannot be kept in {path} "
            f"({exc.strerror or exc}). Fix: point DATA_DIR at a writable directory, or set "
            f"SECRET_KEY (generate one with {GENERATE_KEY_COMMAND})."
        ) from None
    logger.warning(
        "SECRET_KEY is not set: using the development key kept in %s. Set SECRET_KEY "
        "(generate one with %s) before exposing Sentiscope to others.",
        path,
        GENERATE_KEY_COMMAND,
    )
    return key


def _read_or_create_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= MIN_SECRET_KEY_LENGTH:
            return key
        # A truncated or hand-edited file: replace it rather than sign with a weak key.
        path.unlink()
        return _read_or_create_key(path)
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
