"""`python app.py check`: the deployment troubleshooting list, run against this environment.

Each finding is `ok`, `warn` (works, but fix it) or `fail` (Sentiscope will not start or
not work). Nothing is changed: no migration runs and no development key is created.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from errors import AppError
from settings import (
    DEV_SECRET_FILENAME,
    GENERATE_KEY_COMMAND,
    MIN_SECRET_KEY_LENGTH,
    Settings,
    load_settings,
)
from storage.engine import Database
from storage.migrate import alembic_config, current_revision, head_revision

Status = Literal["ok", "warn", "fail"]
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
_UNENCRYPTED_MODES = {"disable", "allow", "prefer"}


@dataclass(frozen=True)
class Finding:
    status: Status
    topic: str
    detail: str


def run_check(settings: Settings | None = None) -> list[Finding]:
    """Every finding, in order; stops after the settings if they do not even load."""
    if settings is None:
        try:
            settings = load_settings()
        except AppError as exc:
            return [Finding("fail", "settings", exc.message)]
    return list(_findings(settings))


def _findings(settings: Settings) -> Iterator[Finding]:
    yield Finding("ok", "mode", settings.mode_line())
    yield _database(settings)
    yield _secret_key(settings)
    yield _model(settings)


def ssl_mode(url: URL) -> str:
    """The libpq sslmode the URL asks for (libpq's default is `prefer`)."""
    value = url.query.get("sslmode", "prefer")
    return value if isinstance(value, str) else value[-1]


def _database(settings: Settings) -> Finding:
    url = settings.database_url()
    try:
        db = Database(
            url, connect_timeout=settings.DB_CONNECT_TIMEOUT, pool_size=settings.DB_POOL_SIZE
        )
    except OSError as exc:
        return Finding("fail", "database", f"Cannot open the SQLite directory: {exc}.")
    try:
        started = time.perf_counter()
        db.ping()
        elapsed_ms = (time.perf_counter() - started) * 1000
        notes = [f"reachable in {elapsed_ms:.0f} ms"]
        status: Status = "ok"
        if db.backend == "postgresql":
            encrypted = _encrypted(db)
            mode = ssl_mode(url)
            notes.append(f"sslmode={mode}, connection {'' if encrypted else 'not '}encrypted")
            if not encrypted and mode in _UNENCRYPTED_MODES and url.host not in _LOCAL_HOSTS:
                status = "warn"
                notes.append(
                    "the database is remote and the connection is not encrypted: add "
                    "?sslmode=require to DATABASE_URL"
                )
        else:
            notes.append("SSL not applicable (local file)")
        schema_status, schema_note = _schema(db)
        notes.append(schema_note)
        if schema_status != "ok":
            status = schema_status
        return Finding(status, "database", "; ".join(notes))
    except AppError as exc:
        return Finding("fail", "database", exc.message)
    finally:
        db.dispose()


def _encrypted(db: Database) -> bool:
    query = text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    try:
        with db.engine.connect() as connection:
            return bool(connection.scalar(query))
    except SQLAlchemyError:
        return False


def _schema(db: Database) -> tuple[Status, str]:
    head = head_revision()
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        at = current_revision(db.engine)
    except SQLAlchemyError as exc:
        return "fail", f"cannot read the schema revision: {str(exc).splitlines()[0]}"
    if at == head:
        return "ok", f"schema at the latest revision ({head})"
    if at is None:
        return "ok", "no tables yet (created at start, or by `python app.py migrate`)"
    if at not in {script.revision for script in scripts.walk_revisions()}:
        return "fail", (
            f"schema at revision {at}, which this version of Sentiscope does not know: a "
            "newer version migrated it. Deploy that version again, or restore a backup "
            "taken before the upgrade into an empty database"
        )
    return "warn", f"schema at revision {at}, latest is {head}: start the app or run migrate"


def _secret_key(settings: Settings) -> Finding:
    key = settings.SECRET_KEY.get_secret_value() if settings.SECRET_KEY else ""
    previous = settings.SECRET_KEY_PREVIOUS
    rotation = ""
    if previous is not None:
        if previous.get_secret_value() == key:
            return Finding("warn", "secret key", "SECRET_KEY_PREVIOUS equals SECRET_KEY; unset it.")
        rotation = "; SECRET_KEY_PREVIOUS set (tokens it signed work until they expire)"
    if not key:
        path = settings.DATA_DIR / DEV_SECRET_FILENAME
        where = "kept in" if path.is_file() else "to be created in"
        return Finding(
            "ok",
            "secret key",
            f"SECRET_KEY not set: development key {where} {path}; set SECRET_KEY "
            f"(python app.py generate-secret) before others use this{rotation}",
        )
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return Finding(
            "warn",
            "secret key",
            f"SECRET_KEY has only {len(key)} characters; production needs at least "
            f"{MIN_SECRET_KEY_LENGTH}. Generate one with {GENERATE_KEY_COMMAND}{rotation}",
        )
    if len(set(key)) < 10:
        return Finding(
            "warn",
            "secret key",
            f"SECRET_KEY has {len(key)} characters but only {len(set(key))} different ones; "
            f"use a random key (python app.py generate-secret){rotation}",
        )
    return Finding("ok", "secret key", f"SECRET_KEY set, {len(key)} characters{rotation}")


def _model(settings: Settings) -> Finding:
    from services import load_settings_model

    started = time.perf_counter()
    try:
        model = load_settings_model(settings)
    except AppError as exc:
        return Finding("fail", "model", exc.message)
    seconds = time.perf_counter() - started
    return Finding(
        "ok",
        "model",
        f"{model.model_id} ({model.backend}, {model.threads} threads) loaded in {seconds:.1f} s",
    )


def render(findings: list[Finding]) -> str:
    """The report as printed: one line per finding and a verdict."""
    labels = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]"}
    lines = ["Sentiscope check"]
    lines += [f"  {labels[f.status]} {f.topic:<11}{f.detail}" for f in findings]
    failures = sum(f.status == "fail" for f in findings)
    warnings = sum(f.status == "warn" for f in findings)
    if failures:
        lines.append(f"Result: NOT READY ({failures} failed, {warnings} warnings)")
    else:
        lines.append(f"Result: ready ({warnings} warnings)")
    return "\n".join(lines)


def passed(findings: list[Finding]) -> bool:
    return not any(f.status == "fail" for f in findings)
