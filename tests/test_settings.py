"""Settings: URL normalisation, production rules, the development key."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import (
    GENERATE_KEY_COMMAND,
    Settings,
    describe_validation_error,
    normalize_database_url,
    with_secret_key,
)

STRONG_KEY = "k" * 32


def build(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_are_accepted_and_keep_their_options(scheme: str) -> None:
    url = normalize_database_url(f"{scheme}://u:p%40ss@db.example.com:6543/app?sslmode=require")
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.database) == ("db.example.com", 6543, "app")
    assert url.password == "p@ss"
    assert url.query["sslmode"] == "require"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not a url", "malformed"),
        ("postgresql://u:secret@host:notaport/db", "malformed"),
        ("mysql://u:secret@host/db", "unsupported scheme"),
        ("postgresql://", "no host"),
        ("sqlite://", "SQLite file"),
    ],
)
def test_bad_database_urls_are_refused_with_a_fix(raw: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build(DATABASE_URL=raw, SECRET_KEY=STRONG_KEY)
    message = describe_validation_error(caught.value)
    assert reason in message
    assert "postgresql://USER:PASSWORD@HOST:5432/DBNAME" in message
    assert "secret" not in message


@pytest.mark.parametrize("key", [None, "short-key"])
def test_production_refuses_a_missing_or_short_secret_key(key: str | None) -> None:
    with pytest.raises(ValidationError) as caught:
        build(DATABASE_URL="postgresql://u:p@localhost/db", SECRET_KEY=key)
    message = describe_validation_error(caught.value)
    assert "at least 32" in message
    assert GENERATE_KEY_COMMAND in message


def test_production_accepts_a_strong_key() -> None:
    settings = build(DATABASE_URL="postgres://u:p@localhost/db", SECRET_KEY=STRONG_KEY)
    assert settings.is_production
    assert settings.mode_line() == "Production mode: using PostgreSQL at localhost:5432/db"


def test_development_mode_uses_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = build(DATA_DIR=tmp_path)
    assert not settings.is_production
    assert settings.mode_line() == f"Development mode: using SQLite at {tmp_path}/sentiscope.db"


def test_development_key_is_generated_private_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        first = with_secret_key(build(DATA_DIR=tmp_path))
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.SECRET_KEY is not None
    key = first.SECRET_KEY.get_secret_value()
    assert len(key) >= 32
    assert "SECRET_KEY is not set" in caplog.text
    assert key not in caplog.text
    second = with_secret_key(build(DATA_DIR=tmp_path))
    assert second.SECRET_KEY is not None
    assert second.SECRET_KEY.get_secret_value() == key  # logins survive a restart


def test_cors_origins_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert build().CORS_ORIGINS == ["https://a.example", "https://b.example"]


def test_admin_username_and_password_go_together() -> None:
    with pytest.raises(ValidationError, match="set together"):
        build(ADMIN_USERNAME="admin")


def test_repr_hides_secrets() -> None:
    settings = build(DATABASE_URL="postgresql://u:hunter2hunter2@h/db", SECRET_KEY=STRONG_KEY)
    assert "hunter2" not in repr(settings)
    assert STRONG_KEY not in repr(settings)


def test_model_languages_are_parsed_and_bad_codes_refused() -> None:
    assert build().model_languages == frozenset({"en"})  # the bundled model: English only
    assert build(MODEL_LANGUAGES="en, DE").model_languages == frozenset({"en", "de"})
    assert build(MODEL_LANGUAGES="*").model_languages is None
    assert build().LANGUAGE_POLICY == "flag"
    for bad in ("english", "", "en,1x"):
        with pytest.raises(ValidationError) as caught:
            build(MODEL_LANGUAGES=bad)
        assert "two-letter ISO 639-1 codes" in describe_validation_error(caught.value)
    with pytest.raises(ValidationError):
        build(LANGUAGE_POLICY="drop")
