"""Build the domain services once at start-up; both edges (API and UI) share them.

Only immutable or thread-safe things live here: the engine, the hasher, the token
service and (later) the loaded sentiment model. Per-user state never does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from analysis.admin import AdminService
from analysis.history import HistoryService
from analysis.insights import InsightsService
from analysis.ratelimit import RateLimiter
from analysis.scoring import ScoringService
from auth.counters import CounterStore, MemoryStore, RedisStore
from auth.passwords import PasswordHasher
from auth.personal_tokens import PersonalTokenService
from auth.service import AccountService
from auth.throttle import LoginThrottle, ThrottleRule
from auth.tokens import Clock, TokenService, system_clock
from auth.totp import SecretBox
from batch.blobs import BlobStore, DatabaseBlobStore, FileBlobStore
from batch.engine import JobEngine, ThreadEngine
from batch.service import RESULTS_FOLDER, BatchService, limits_from
from batch.work import ChunkWork
from errors import AppError, ConfigError, DatabaseUnavailable, InvalidInput
from sentiment.language import LanguageRule
from settings import Settings, describe_database, with_secret_key
from storage import Database, upgrade_head
from storage.errors import explain_connection_error, first_line

if TYPE_CHECKING:
    from sentiment import SentimentModel
    from sentiment.scheduler import InferenceScheduler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    accounts: AccountService
    model: SentimentModel  # loaded once per process, shared read-only by every request
    scheduler: InferenceScheduler  # every model pass of the process: interactive, then batch
    scoring: ScoringService  # score and record texts; explain; the guest demo
    history: HistoryService
    insights: InsightsService
    personal_tokens: PersonalTokenService
    admin: AdminService
    batches: BatchService  # batch jobs: submit, follow, cancel, download; this process's workers
    counters: CounterStore  # failed logins, registrations, guests: memory or REDIS_URL

    def health(self) -> dict[str, str]:
        database = "ok" if self.db.is_available() else "unavailable"
        return {
            "status": "ok" if database == "ok" else "degraded",
            "database": database,
            "model": self.model.model_id,
        }

    def close(self) -> None:
        self.batches.close()
        self.scheduler.close()
        self.db.dispose()
        self.counters.close()


def build_services(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    hasher: PasswordHasher | None = None,
    model: SentimentModel | None = None,
) -> Services:
    """Connect, migrate to head, load the sentiment model and build the services.

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
    try:
        counters = open_counters(settings)
    except ConfigError:
        db.dispose()
        raise
    throttle = LoginThrottle(
        account=ThrottleRule(settings.LOGIN_FAILURES_PER_ACCOUNT, timedelta(minutes=15)),
        ip=ThrottleRule(settings.LOGIN_FAILURES_PER_IP, timedelta(hours=1)),
        register=ThrottleRule(settings.REGISTRATIONS_PER_IP, timedelta(hours=1)),
        store=counters,
        clock=clock,
    )
    box = SecretBox(  # 2FA secrets at rest; the previous key still decrypts them
        settings.SECRET_KEY.get_secret_value(),
        previous.get_secret_value() if previous else None,
    )
    accounts = AccountService(db, hasher or PasswordHasher(), tokens, clock, throttle, box)
    if settings.ADMIN_USERNAME and settings.ADMIN_PASSWORD:
        try:
            accounts.ensure_admin(
                settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD.get_secret_value()
            )
        except InvalidInput as exc:
            db.dispose()
            counters.close()
            raise ConfigError(f"ADMIN_USERNAME/ADMIN_PASSWORD: {exc.message}") from None
    if model is None:
        try:
            model = load_settings_model(settings)
        except AppError:
            db.dispose()
            counters.close()
            raise
    from sentiment.scheduler import InferenceScheduler

    scheduler = InferenceScheduler(model)
    guests = None
    if settings.GUEST_MODE:  # wall-clock seconds: Redis compares them across processes
        guests = RateLimiter(
            settings.GUEST_RATE_LIMIT, clock=lambda: clock().timestamp(), store=counters
        )
    services = Services(
        settings=settings,
        db=db,
        accounts=accounts,
        model=model,
        scheduler=scheduler,
        scoring=ScoringService(
            db,
            model,
            scheduler=scheduler,
            max_texts=settings.MAX_TEXTS_PER_REQUEST,
            max_chars=settings.MAX_TEXT_CHARS,
            guest_limiter=guests,
            clock=clock,
            languages=language_rule(settings),
        ),
        history=HistoryService(db),
        insights=InsightsService(db),
        personal_tokens=PersonalTokenService(db, clock),
        admin=AdminService(db),
        batches=build_batches(settings, db, scheduler),
        counters=counters,
    )
    accounts.after_delete.append(services.batches.remove_results_of)
    services.batches.remove_orphaned_results()
    services.batches.start()
    return services


def build_batches(
    settings: Settings, db: Database, scheduler: InferenceScheduler, *, workers: int | None = None
) -> BatchService:
    """Batch jobs on procrastinate (PostgreSQL) or worker threads (SQLite); `workers`
    overrides BATCH_WORKERS (the standalone worker runs its own)."""
    blobs: BlobStore
    engine: JobEngine
    work = ChunkWork(db, DatabaseBlobStore() if db.backend == "postgresql" else FileBlobStore(
        settings.DATA_DIR / RESULTS_FOLDER
    ), scheduler, languages=language_rule(settings))  # fmt: skip
    blobs = work.blobs
    count = settings.BATCH_WORKERS if workers is None else workers
    if db.backend == "postgresql":
        from batch.procrastinate_engine import ProcrastinateEngine

        engine = ProcrastinateEngine(db, work, count)
    else:
        engine = ThreadEngine(db, work, count)
    return BatchService(
        db,
        work,
        blobs,
        engine,
        limits_from(settings.MAX_UPLOAD_MB, settings.MAX_BATCH_ROWS, settings.MAX_BATCH_TEXT_CHARS),
        upload_dir=settings.DATA_DIR / "uploads",
        chunk_rows=settings.BATCH_CHUNK_ROWS,
        files_days=settings.BATCH_FILES_DAYS,
    )


def language_rule(settings: Settings) -> LanguageRule:
    """The languages the model reads (MODEL_LANGUAGES) and LANGUAGE_POLICY for the others."""
    return LanguageRule(settings.model_languages, settings.LANGUAGE_POLICY)


def load_settings_model(settings: Settings) -> SentimentModel:
    """The model SENTIMENT_MODEL names, through the per-process cache (ModelError if unusable)."""
    from sentiment import load_model  # the model stack is imported only once start-up gets this far

    onnx = settings.SENTIMENT_BACKEND == "onnx-int8"
    return load_model(
        settings.SENTIMENT_MODEL,
        backend=settings.SENTIMENT_BACKEND,
        threads=settings.SENTIMENT_THREADS or None,
        cache_dir=settings.model_cache_dir if onnx else None,
    )


def open_counters(settings: Settings) -> CounterStore:
    """Redis when REDIS_URL is set (ConfigError if it does not answer), else this process."""
    if settings.REDIS_URL is None:
        return MemoryStore()
    return RedisStore.connect(settings.REDIS_URL, prefix=f"{settings.REDIS_KEY_PREFIX}throttle:")


def open_database(settings: Settings) -> Database:
    """Connect and migrate to head, or raise DatabaseUnavailable saying what to fix."""
    url = settings.database_url()
    try:
        db = Database(
            url,
            connect_timeout=settings.DB_CONNECT_TIMEOUT,
            pool_size=settings.DB_POOL_SIZE,
            statement_timeout_ms=settings.DB_STATEMENT_TIMEOUT_MS,
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
