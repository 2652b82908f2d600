"""Backup and restore: every table, ids and timestamps kept, across SQLite and PostgreSQL.

The source database is PostgreSQL when TEST_DATABASE_URL is set (SQLite otherwise); the
middle hop is always SQLite, so the CI run on PostgreSQL proves PostgreSQL -> SQLite ->
PostgreSQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from errors import Conflict, InvalidInput
from settings import normalize_database_url
from storage import models
from storage.backup import load_backup, restore, tables, write_backup
from storage.backup import writer as backup_module
from storage.engine import Database
from storage.migrate import current_revision, head_revision, upgrade_head
from tests.helpers import fresh_database

T0 = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


@contextmanager
def new_database(tmp_path: Path, *, sqlite: bool = False) -> Iterator[Database]:
    """An empty database: SQLite, or whatever the suite runs on."""
    if sqlite:
        db = Database(make_url(f"sqlite:///{tmp_path / 'hop.db'}"))
        try:
            yield db
        finally:
            db.dispose()
        return
    generator = fresh_database(tmp_path)
    fresh = next(generator)
    db = Database(normalize_database_url(fresh.url))
    try:
        yield db
    finally:
        db.dispose()
        generator.close()


def populate(db: Database) -> None:
    """Rows in every table, with the awkward values: microseconds, unicode, NULLs, floats."""
    upgrade_head(db.engine)
    with db.session_scope() as s:
        ada = models.User(
            id=7, username="Ada", password_hash="$argon2id$x", is_admin=True, created_at=T0
        )
        bob = models.User(
            id=12,
            username="bob",
            password_hash="$argon2id$y",
            disabled=True,
            token_version=3,
            created_at=T0 + timedelta(microseconds=1),
        )
        s.add_all([ada, bob])
        s.flush()
        batch = models.Batch(
            id=4,
            user_id=ada.id,
            filename="reviews – 2031.csv",
            row_count=2,
            status="done",
            count_positive=1,
            count_negative=1,
            created_at=T0 + timedelta(seconds=1),
        )
        s.add(batch)
        s.flush()
        for i, (text, label) in enumerate(
            [("Great value! 👍", "positive"), ("Nope\n", "negative")]
        ):
            s.add(
                models.Prediction(
                    id=100 + i,
                    user_id=ada.id,
                    text=text,
                    label=label,
                    score=0.1 + 0.2,
                    prob_negative=1 / 3,
                    prob_neutral=1e-7,
                    prob_positive=0.6666666666666666,
                    model_id="bundled-abc",
                    source="batch",
                    batch_id=batch.id,
                    created_at=T0 + timedelta(seconds=2, microseconds=999999),
                )
            )
        s.add(
            models.Prediction(
                id=250,
                user_id=bob.id,
                text="ça va",
                label="neutral",
                score=0.5,
                prob_negative=0.25,
                prob_neutral=0.5,
                prob_positive=0.25,
                model_id="bundled-abc",
                source="api",
                created_at=T0,
            )
        )
        s.add(
            models.AuthEvent(
                id=3, user_id=None, username="ghost", event="login_fail", created_at=T0
            )
        )
        s.add(
            models.AuthEvent(
                id=9,
                user_id=ada.id,
                username="ada",
                event="login_success",
                client_ip="203.0.113.9",
                user_agent="curl/8",
                created_at=T0,
            )
        )
        api_token = getattr(models, "ApiToken", None)
        if api_token is not None:
            s.add(
                api_token(
                    id=5,
                    user_id=ada.id,
                    name="ci",
                    token_hash="f" * 64,
                    prefix="sk_abc",
                    created_at=T0,
                    last_used_at=None,
                )
            )


def dump(db: Database) -> list[dict[str, Any]]:
    """The backup's row records (header and its timestamp left out)."""
    out = io.StringIO()
    write_backup(db, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["format"] == "sentiscope-backup"
    return lines[1:]


def test_round_trip_through_sqlite_keeps_every_row_exactly(tmp_path: Path) -> None:
    with new_database(tmp_path / "a") as source:
        populate(source)
        original = dump(source)
        with new_database(tmp_path / "b", sqlite=True) as hop:
            load_backup(hop, io.StringIO(backup_text(source)))
            assert dump(hop) == original
            with new_database(tmp_path / "c") as back:
                load_backup(back, io.StringIO(backup_text(hop)))
                assert dump(back) == original
                with back.session_scope() as s:
                    row = s.get(models.Prediction, 101)
                    assert row is not None
                    assert row.created_at == T0 + timedelta(seconds=2, microseconds=999999)
                    assert row.score == 0.1 + 0.2
                    assert row.text == "Nope\n"
    tables_in_file = {r["table"] for r in original if "table" in r}
    assert {"users", "predictions", "batches", "auth_events"} <= tables_in_file
    assert original[-1]["rows"]["predictions"] == 3


def backup_text(db: Database) -> str:
    out = io.StringIO()
    write_backup(db, out)
    return out.getvalue()


def test_new_rows_after_a_restore_get_fresh_ids(tmp_path: Path) -> None:
    with new_database(tmp_path / "a", sqlite=True) as source:
        populate(source)
        text = backup_text(source)
    with new_database(tmp_path / "b") as target:
        load_backup(target, io.StringIO(text))
        assert current_revision(target.engine) == head_revision()
        with target.session_scope() as s:
            user = models.User(username="carol", password_hash="h", created_at=T0)
            event = models.AuthEvent(username="carol", event="register", created_at=T0)
            s.add_all([user, event])
            s.flush()
            assert user.id == 13
            assert event.id == 10


def test_restore_refuses_a_database_with_rows(tmp_path: Path) -> None:
    with new_database(tmp_path / "a") as db:
        populate(db)
        text = backup_text(db)
        with pytest.raises(Conflict, match="empty database"):
            load_backup(db, io.StringIO(text))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("hello\n", "not valid JSON"),
        ('{"format": "other"}\n', "not a Sentiscope backup"),
        ('{"format": "sentiscope-backup", "version": 99, "schema": "x"}\n', "version 99"),
    ],
)
def test_damaged_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with (
        new_database(tmp_path / "db", sqlite=True) as db,
        pytest.raises(InvalidInput, match=message),
    ):
        restore(db, path)


def test_a_truncated_backup_restores_nothing(tmp_path: Path) -> None:
    with new_database(tmp_path / "a", sqlite=True) as source:
        populate(source)
        lines = backup_text(source).splitlines(keepends=True)
    with new_database(tmp_path / "b") as target:
        with pytest.raises(InvalidInput, match="incomplete"):
            load_backup(target, iter(lines[:-2]))
        with target.session_scope() as s:
            assert s.scalars(select(models.User)).all() == []
        load_backup(target, iter(lines))  # the empty schema left behind accepts a retry
        with target.session_scope() as s:
            assert len(s.scalars(select(models.User)).all()) == 2


def results_folder(root: Path) -> Path:
    """A results folder like DATA_DIR/batches: two finished batches and a running one."""
    (root / "user-7").mkdir(parents=True)
    (root / "user-7" / "batch-1.csv").write_bytes("\ufefftext,label\nCafé ☕,positive\n".encode())
    (root / "user-7" / "batch-2.csv").write_bytes(bytes(range(256)) * 40)  # 10 KiB, any bytes
    (root / "tmp").mkdir()
    (root / "tmp" / "job.csv").write_text("half-scored", encoding="utf-8")
    return root


def test_results_files_travel_with_the_rows(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(backup_module, "FILE_PART", 1000)  # several parts per file
    source_files = results_folder(tmp_path / "files-a")
    path = tmp_path / "backup.jsonl"
    with new_database(tmp_path / "a", sqlite=True) as source:
        populate(source)
        written = backup_module.backup(source, path, source_files)
    assert written.files == 2
    with new_database(tmp_path / "b") as target:
        restored = restore(target, path, tmp_path / "files-b")
    assert restored.files == 2
    copies = sorted(p.relative_to(tmp_path / "files-b") for p in (tmp_path / "files-b").rglob("*"))
    assert [p.as_posix() for p in copies] == ["user-7", "user-7/batch-1.csv", "user-7/batch-2.csv"]
    for name in ("batch-1.csv", "batch-2.csv"):
        copy = (tmp_path / "files-b" / "user-7" / name).read_bytes()
        assert copy == (source_files / "user-7" / name).read_bytes()


def test_a_file_outside_the_results_folder_is_refused_and_nothing_restored(
    tmp_path: Path,
) -> None:
    with new_database(tmp_path / "a", sqlite=True) as source:
        populate(source)
        lines = backup_text(source).splitlines(keepends=True)
    evil = json.dumps({"file": "../../escaped.txt", "data": "aGk="}) + "\n"
    with new_database(tmp_path / "b") as target:
        with pytest.raises(InvalidInput, match="outside the results folder"):
            load_backup(target, iter([*lines[:-1], evil, lines[-1]]), files_dir=tmp_path / "f")
        with target.session_scope() as s:
            assert s.scalars(select(models.User)).all() == []
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not (tmp_path / "f" / ".restoring").exists()


def test_a_version_1_backup_without_files_still_restores(tmp_path: Path) -> None:
    with new_database(tmp_path / "a", sqlite=True) as source:
        populate(source)
        lines = [json.loads(line) for line in backup_text(source).splitlines()]
    lines[0]["version"] = 1
    del lines[-1]["files"]
    with new_database(tmp_path / "b") as target:
        summary = load_backup(
            target, iter(json.dumps(r) + "\n" for r in lines), files_dir=tmp_path / "f"
        )
    assert summary.files == 0
    assert summary.rows["users"] == 2


def test_every_table_of_the_schema_is_backed_up() -> None:
    names = [table.name for table in tables()]
    assert names.index("users") < names.index("batches") < names.index("predictions")
    assert set(names) == set(models.Base.metadata.tables)


@pytest.mark.slow
def test_history_through_the_api_is_the_same_after_a_restore_on_sqlite(tmp_path: Path) -> None:
    """Backup on the suite's database (PostgreSQL in CI), restore on SQLite, compare the API."""
    from fastapi.testclient import TestClient

    from app import create_app
    from services import build_services
    from tests.helpers import PASSWORD, api_login, bearer, make_settings, new_username

    def history(settings: Any, username: str) -> list[dict[str, Any]]:
        services = build_services(settings)
        try:
            with TestClient(create_app(settings, services)) as client:
                token = api_login(client, username)
                response = client.get("/api/history", headers=bearer(token))
                assert response.status_code == 200, response.text
                return list(response.json()["items"])
        finally:
            services.close()

    username = new_username()
    with new_database(tmp_path / "a") as source_db:
        source = make_settings(source_db.url.render_as_string(False), tmp_path / "data-a")
        services = build_services(source)
        try:
            with TestClient(create_app(source, services)) as client:
                client.post("/api/auth/register", json={"username": username, "password": PASSWORD})
                token = api_login(client, username)
                texts = ["I love it, works perfectly.", "Awful, it broke in a day.", "It is a box."]
                response = client.post("/api/predict", json={"texts": texts}, headers=bearer(token))
                assert response.status_code == 200, response.text
        finally:
            services.close()
        before = history(source, username)
        text = backup_text(source_db)
    assert len(before) == 3
    target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    target_db = Database(make_url(target_url))
    try:
        load_backup(target_db, io.StringIO(text))
    finally:
        target_db.dispose()
    after = history(make_settings(target_url, tmp_path / "data-b"), username)
    assert after == before
