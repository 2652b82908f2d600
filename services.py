"""Build the domain services once at start-up; both edges (API and UI) share them.

Only immutable or thread-safe things live here: the engine, the hasher, the token
service and (later) the loaded sentiment model. Per-user state never does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from auth.passwords import PasswordHasher
from auth.service import AccountService
from auth.tokens import Clock, TokenService, system_clock
from errors import ConfigError, DatabaseUnavailable, InvalidInput
from settings import Settings, describe_database, with_secret_key
from storage import Database, upgrade_head
from storage.errors import explain_connection_error, first_line

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    accounts: AccountService
    # The sentiment model: set here once `sentiment.load_model(settings.SENTIMENT_MODEL)`
    # is wired in; /healthz reports `model_name`.
    model_name: str
    model: Any = None

    def health(self) -> dict[str, str]:
        database = "ok" if self.db.is_available() else "unavailable"
        return {
            "status": "ok" if database == "ok" else "degraded",
            "database": database,
            "model": self.model_name,
        }

    def close(self) -> None:
        self.db.dispose()


def build_services(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    hasher: PasswordHasher | None = None,
) -> Services:
    """Connect, migrate to head and build the services.

    Raises DatabaseUnavailable or ConfigError with a message naming the cause and the fix.
    """
    logger.info(settings.mode_line())
    settings = with_secret_key(settings)
    db = open_database(settings)
    assert settings.SECRET_KEY is not None  # with_secret_key guarantees it
    previous = settings.SECRET_KEY_PREVIOUS
    tokens = TokenService(
        settings.SECRET_KEY.get_secret_value(),
        previous_key=previous.get_secret_value() if previous else None,
        ttl=timedelta(seconds=settings.ACCESS_TOKEN_TTL),
        clock=clock,
    )
    accounts = AccountService(db, hasher or PasswordHasher(), tokens, clock)
    if settings.ADMIN_USERNAME and settings.ADMIN_PASSWORD:
        try:
            accounts.ensure_admin(
                settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD.get_secret_value()
            )
        except InvalidInput as exc:
            db.dispose()
            raise ConfigError(f"ADMIN_USERNAME/ADMIN_PASSWORD: {exc.message}") from None
    return Services(
        settings=settings, db=db, accounts=accounts, model_name=settings.SENTIMENT_MODEL
    )


def open_database(settings: Settings) -> Database:
    """Connect and migrate to head, or raise DatabaseUnavailable saying what to fix."""
    url = settings.database_url()
    try:
        db = Database(
            url, connect_timeout=settings.DB_CONNECT_TIMEOUT, pool_size=settings.DB_POOL_SIZE
        )
    except OSError as exc:  # e.g. the SQLite directory cannot be created
        raise DatabaseUnavailable(explain_connection_error(url, exc)) from None
    db.ping_or_dispose()
    try:
        upgrade_head(db.engine)
    except SQLAlchemyError as exc:
        db.dispose()
        raise DatabaseUnavailable(
            f"Migrating the {describe_database(url)} to the latest schema failed: "
            f"{first_line(exc)}. Fix: make sure the DATABASE_URL user may create and alter "
            "tables, then start again; the failed step was rolled back."
        ) from None
    return db
