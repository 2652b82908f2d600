"""Sentiscope's settings: one validated object, built once at start-up and passed down.

Every field is read from an environment variable of the same name (or from `.env`).
The README's settings table lists each field; `tests/test_readme.py` keeps them in sync.
What a DATABASE_URL may be lives with the database (storage/urls.py), the development
SECRET_KEY file with the tokens it signs (auth/secret_key.py); settings.py names both.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL

from auth.secret_key import (
    DEV_SECRET_FILENAME,
    GENERATE_KEY_COMMAND,
    MIN_SECRET_KEY_LENGTH,
    development_key,
    warn_if_short,
)
from batch_settings import BatchSettings
from errors import ConfigError
from model_settings import ModelSettings
from storage.urls import describe_database, normalize_database_url

__all__ = [
    "DEV_SECRET_FILENAME",
    "GENERATE_KEY_COMMAND",
    "MIN_SECRET_KEY_LENGTH",
    "SQLITE_FILENAME",
    "Settings",
    "describe_database",
    "describe_validation_error",
    "load_settings",
    "normalize_database_url",
    "with_secret_key",
]

logger = logging.getLogger(__name__)

SQLITE_FILENAME = "sentiscope.db"

_REDIS_SCHEMES = {"redis", "rediss", "unix"}


class Settings(ModelSettings, BatchSettings, BaseSettings):
    """All configuration, from environment variables of the same name (the model's
    fields in model_settings.py, the batches' in batch_settings.py)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", validate_default=True)

    DATABASE_URL: str | None = Field(
        default=None,
        repr=False,
        description="PostgreSQL (or SQLite) URL. Set: production mode. Unset: SQLite in DATA_DIR.",
    )
    SECRET_KEY: SecretStr | None = Field(
        default=None,
        description="Signs access tokens. Required (32+ characters) in production mode.",
    )
    SECRET_KEY_PREVIOUS: SecretStr | None = Field(
        default=None,
        description="The key before the last rotation; only verifies tokens until they expire.",
    )
    ACCESS_TOKEN_TTL: int = Field(
        default=24 * 3600, gt=0, description="Access token lifetime in seconds."
    )
    DATA_DIR: Path = Field(default=Path("data"), description="SQLite file and other local state.")
    HOST: str = Field(default="0.0.0.0", description="Interface `python app.py` listens on.")  # noqa: S104
    PORT: int = Field(default=7860, ge=1, le=65535, description="Port `python app.py` listens on.")
    MAX_TEXT_CHARS: int = Field(
        default=5_000, gt=0, le=1_000_000, description="Longest text accepted for scoring."
    )
    CORS_ORIGINS: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins allowed to call the API from a browser.",
    )
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Python logging level."
    )
    MAX_UPLOAD_MB: int = Field(default=50, gt=0, le=1024, description="Largest upload accepted.")
    ADMIN_USERNAME: str | None = Field(
        default=None, description="Optional: an admin account created at start if missing."
    )
    ADMIN_PASSWORD: SecretStr | None = Field(
        default=None, description="Password for ADMIN_USERNAME (set both or neither)."
    )
    DB_CONNECT_TIMEOUT: int = Field(
        default=2,
        ge=1,
        le=60,
        description="Seconds to wait for a new PostgreSQL connection (libpq waits 2 at least).",
    )
    DB_STATEMENT_TIMEOUT_MS: int = Field(
        default=30_000,
        ge=0,
        le=3_600_000,
        description="PostgreSQL cancels a statement running longer (0: never); SQLite's lock wait.",
    )
    DB_POOL_SIZE: int = Field(
        default=5,
        ge=1,
        le=100,
        description="PostgreSQL connections per process; bursts may open and keep 3x as many.",
    )
    GUEST_MODE: bool = Field(
        default=True,
        description="Let visitors without an account try Analyze (nothing is saved).",
    )
    GUEST_RATE_LIMIT: int = Field(
        default=10, ge=1, le=10_000, description="Guest analyses per minute per client IP."
    )
    MAX_TEXTS_PER_REQUEST: int = Field(
        default=100, ge=1, le=10_000, description="Most texts one predict call may score."
    )
    LOGIN_FAILURES_PER_ACCOUNT: int = Field(
        default=10,
        ge=1,
        le=10,
        description="Failed logins per account and client IP in 15 minutes before HTTP 429.",
    )
    LOGIN_FAILURES_PER_IP: int = Field(
        default=100, ge=1, le=100, description="Failed logins per client IP in an hour (any user)."
    )
    REGISTRATIONS_PER_IP: int = Field(
        default=20, ge=1, le=10_000, description="Accounts one client IP may create in an hour."
    )
    REDIS_URL: str | None = Field(
        default=None,
        repr=False,
        description="Redis for the login and guest counters, shared by every process. Unset: each "
        "process counts on its own.",
    )
    REDIS_KEY_PREFIX: str = Field(
        default="sentiscope:",
        min_length=1,
        max_length=100,
        description="Prefix of every Redis key Sentiscope writes.",
    )
    FRAME_ANCESTORS: str = Field(
        default="'self' https://huggingface.co https://*.hf.space",
        description="CSP frame-ancestors: the sites allowed to embed Sentiscope in a frame.",
    )

    @field_validator("DATABASE_URL", "ADMIN_USERNAME", "REDIS_URL", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("SECRET_KEY", "SECRET_KEY_PREVIOUS", "ADMIN_PASSWORD", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value else value

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("CORS_ORIGINS", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("CORS_ORIGINS")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin in ("*", "null"):
                raise ValueError(
                    f"CORS_ORIGINS must list exact origins such as https://example.org; "
                    f"{origin!r} is refused (a wildcard or the opaque `null` origin would let "
                    "any page call the API)."
                )
        return value

    @field_validator("FRAME_ANCESTORS")
    @classmethod
    def _check_frame_ancestors(cls, value: str) -> str:
        if not value.strip() or any(c in value for c in ";,\r\n"):
            raise ValueError(
                "FRAME_ANCESTORS must be a space-separated list of sources such as "
                "\"'self' https://huggingface.co\" (use 'none' to forbid framing)."
            )
        return value.strip()

    @field_validator("REDIS_URL")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value.strip()).scheme not in _REDIS_SCHEMES:
            # The value may hold a password, so it is never echoed back.
            raise ValueError(
                "REDIS_URL must look like redis://[:PASSWORD@]HOST:6379/0 (rediss:// for TLS, "
                "unix:///path/to/redis.sock), or be left unset to count in each process."
            )
        return value.strip() if value is not None else None

    @field_validator("DATABASE_URL")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None:
            normalize_database_url(value)
        return value

    @model_validator(mode="after")
    def _check_production_rules(self) -> Self:
        key = self.SECRET_KEY.get_secret_value() if self.SECRET_KEY else ""
        if self.is_production and len(key) < MIN_SECRET_KEY_LENGTH:
            problem = "is not set" if not key else f"has only {len(key)} characters"
            raise ValueError(
                f"SECRET_KEY {problem}; production mode (DATABASE_URL is set) needs at least "
                f"{MIN_SECRET_KEY_LENGTH} random characters. Generate one with "
                f"{GENERATE_KEY_COMMAND} and set it as SECRET_KEY."
            )
        if (self.ADMIN_USERNAME is None) != (self.ADMIN_PASSWORD is None):
            raise ValueError(
                "ADMIN_USERNAME and ADMIN_PASSWORD must be set together (or both left unset)."
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.DATABASE_URL is not None

    @property
    def model_cache_dir(self) -> Path:
        return self.MODEL_CACHE_DIR or self.DATA_DIR / "models"

    @property
    def sqlite_path(self) -> Path:
        return self.DATA_DIR / SQLITE_FILENAME

    def database_url(self) -> URL:
        """The SQLAlchemy URL to connect to, with the driver Sentiscope uses."""
        if self.DATABASE_URL is None:
            return URL.create("sqlite", database=str(self.sqlite_path))
        return normalize_database_url(self.DATABASE_URL)

    def mode_line(self) -> str:
        """The one start-up line saying which mode and database are in use (no password)."""
        mode = "Production" if self.is_production else "Development"
        return f"{mode} mode: using {describe_database(self.database_url())}"


def load_settings() -> Settings:
    """Build Settings from the environment, turning validation errors into a ConfigError."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One readable paragraph from pydantic's errors, without echoing secret values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        original = (error.get("ctx") or {}).get("error")
        message = str(original) if isinstance(original, ValueError) else error["msg"]
        field = ".".join(str(part) for part in error["loc"])
        parts.append(message if not field or message.startswith(field) else f"{field}: {message}")
    return " ".join(parts)


def with_secret_key(settings: Settings) -> Settings:
    """Return settings that have a SECRET_KEY, creating a development key if needed.

    In development mode an unset SECRET_KEY is generated once and kept in DATA_DIR
    (mode 0600) so that logins survive a restart. Production never reaches here without
    a key: the validator refuses it.
    """
    if settings.SECRET_KEY is not None:
        warn_if_short(settings.SECRET_KEY.get_secret_value())
        return settings
    key = development_key(settings.DATA_DIR)
    return settings.model_copy(update={"SECRET_KEY": SecretStr(key)})
