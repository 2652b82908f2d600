"""User B tries, hundreds of ways, to read, export, delete or cancel user A's things.

History (list, every filter, search, delete by id, delete all), CSV export, insights,
batches (status, results.csv, cancel), personal API tokens (list, revoke), over REST,
gradio_client and the UI's own handlers called as a crafted request would call them.
Every attempt is counted; none may succeed, and A's rows are the same afterwards.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from fastapi.testclient import TestClient
from gradio_client import Client
from sqlalchemy import select

from services import Services
from storage.models import ApiToken, Batch, Prediction
from tests.analysis_factories import AliceAndBob, add_rows, alice_and_bob
from tests.helpers import bearer
from tests.ui_calls import crafted_request, ui_handlers
from ui.app import build_ui

MARK = "zebracorn"  # in every text of A's, never in B's
FILTERS: list[dict[str, str]] = [
    {},
    {"label": "positive"},
    {"label": "negative"},
    {"source": "batch"},
    {"source": "single"},
    {"search": MARK},
    {"search": "alice"},
    {"search": "%"},
    {"search": "' OR 1=1 --"},
    {"since": "2030-01-01", "until": "2031-12-31"},
    {"search": MARK, "label": "positive", "since": "2030-03-01"},
    {"user_id": "{alice}"},  # an extra parameter naming A must be ignored
]
MIN_ATTEMPTS = 200


@dataclass
class Tally:
    attempts: int = 0
    breaches: list[str] = field(default_factory=list)

    def check(self, what: str, breached: bool) -> None:
        self.attempts += 1
        if breached:
            self.breaches.append(what)


@dataclass(frozen=True)
class World(AliceAndBob):
    """A and B, and A's batch and personal API token besides her history."""

    alice_batch: int
    alice_job: str
    alice_api_token_id: int


def _write_csv(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review"])
        writer.writerows([t] for t in texts)
    return path


@pytest.fixture(scope="module")
def world(services: Services, tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("crossuser")
    users = alice_and_bob(
        services, [f"alice {MARK} loved it {n}" for n in range(8)], ["bob's own text, fine"]
    )
    alice = users.alice
    hated = [f"alice {MARK} hated it {n}" for n in range(6)]
    users = replace(
        users, alice_rows=users.alice_rows + add_rows(services, alice, hated, label="negative")
    )
    csv_path = _write_csv(folder / "alice.csv", [f"{MARK} batch row {n}, great" for n in range(4)])
    done = services.batches.run(alice, csv_path, f"alice-{MARK}.csv")
    token = services.personal_tokens.create(alice, f"alice {MARK} script")
    return World(
        **vars(users),
        alice_batch=done.batch_id,
        alice_job=done.id,
        alice_api_token_id=token.info.id,
    )


def snapshot(services: Services, user_id: int) -> dict[str, Any]:
    """Everything of a user's that B might read or change, straight from the database."""
    with services.db.session_scope() as session:
        texts = session.execute(
            select(Prediction.id, Prediction.text).where(Prediction.user_id == user_id)
        ).all()
        batches = session.scalars(select(Batch.id).where(Batch.user_id == user_id)).all()
        tokens = session.scalars(select(ApiToken.id).where(ApiToken.user_id == user_id)).all()
    return {"rows": sorted(map(tuple, texts)), "batches": sorted(batches), "tokens": sorted(tokens)}


def _params(world: World, filters: dict[str, str]) -> dict[str, str]:
    return {k: v.format(alice=world.alice) for k, v in filters.items()}


def id_variants(value: int) -> list[str]:
    return [str(value), f"0{value}", f"+{value}", f"{value}.0", f" {value}"]


def rest_attempts(client: TestClient, world: World, tally: Tally) -> None:
    bob = bearer(world.bob_token)
    for filters in FILTERS:
        params = _params(world, filters)
        for path in ("/api/history", "/api/history/export.csv", "/api/insights"):
            response = client.get(path, params=params, headers=bob)
            tally.check(f"GET {path} {params}", MARK in response.text)
        insights = client.get("/api/insights", params=params, headers=bob)
        tally.check(f"insights total {params}", insights.json()["total"] > len(world.bob_rows))
    for batch_filter in (world.alice_batch, f"0{world.alice_batch}"):
        response = client.get("/api/history", params={"batch_id": batch_filter}, headers=bob)
        tally.check(f"history of batch {batch_filter}", MARK in response.text)
    for row_id in world.alice_rows:
        for variant in id_variants(row_id):
            response = client.delete(f"/api/history/{variant}", headers=bob)
            tally.check(f"DELETE /api/history/{variant!r}", response.status_code < 300)
    for ident in [*id_variants(world.alice_batch), world.alice_job]:
        for suffix in ("", "/results.csv", "/results.xlsx"):
            response = client.get(f"/api/batch/{ident}{suffix}", headers=bob)
            leaked = response.status_code < 300 or MARK in response.text
            tally.check(f"GET /api/batch/{ident!r}{suffix}", leaked)
        response = client.post(f"/api/batch/{ident}/cancel", headers=bob)
        tally.check(f"POST /api/batch/{ident!r}/cancel", response.status_code < 300)
    listed = client.get("/api/tokens", headers=bob)
    tally.check("GET /api/tokens", MARK in listed.text or listed.json() != [])
    for variant in id_variants(world.alice_api_token_id):
        response = client.delete(f"/api/tokens/{variant}", headers=bob)
        tally.check(f"DELETE /api/tokens/{variant!r}", response.status_code < 300)


def gradio_client_attempts(live_server: str, world: World, tally: Tally) -> None:
    """Bob's token as the explicit parameter, then as an Authorization header."""
    plain = Client(live_server, verbose=False)
    with_header = Client(live_server, verbose=False, headers=bearer(world.bob_token))
    try:
        for client, token in ((plain, world.bob_token), (with_header, "")):
            for filters in FILTERS:
                params = {k: v for k, v in _params(world, filters).items() if k != "user_id"}
                page = client.predict(token, **params, api_name="/history")
                tally.check(f"gradio /history {params}", MARK in str(page))
                found = client.predict(token, **params, api_name="/insights")
                tally.check(
                    f"gradio /insights {params}",
                    MARK in str(found) or found["total"] > len(world.bob_rows),
                )
            page = client.predict(token, batch=str(world.alice_batch), api_name="/history")
            tally.check("gradio /history of A's batch", MARK in str(page))
    finally:
        plain.close()
        with_header.close()


def _filter_values(filters: dict[str, str]) -> tuple[str, ...]:
    keys = ("label", "source", "batch_id", "since", "until", "search")
    return tuple(filters.get(k, "all" if k in ("label", "source") else "") for k in keys)


def ui_attempts(services: Services, world: World, tally: Tally) -> None:
    fns = ui_handlers(build_ui(services))
    token, request = world.bob_token, crafted_request(world.bob_token)
    for filters in FILTERS:
        values = _filter_values(filters)
        shown = fns["newest"](token, request, *values)
        tally.check(f"UI history {filters}", MARK in str(shown))
        with open(fns["export_csv"](token, request, *values), encoding="utf-8") as handle:
            tally.check(f"UI export {filters}", MARK in handle.read())
        charts = fns["show"](token, request, *values)
        tally.check(f"UI insights {filters}", MARK in str(charts))
    batch_values = _filter_values({"batch_id": str(world.alice_batch)})
    tally.check(
        "UI history of A's batch", MARK in str(fns["newest"](token, request, *batch_values))
    )
    for row_id in world.alice_rows:
        fns["delete_selected"](token, [row_id], request, *_filter_values({}))
        tally.check(f"UI delete {row_id}", row_id not in snapshot_ids(services, world.alice))
    fns["delete_selected"](token, world.alice_rows, request, *_filter_values({}))
    tally.check("UI delete all of A's ids at once", len(snapshot_ids(services, world.alice)) < 18)
    tally.check("UI stop (cancel) batches", fns["stop"](token, request) != "No batch is running.")
    for variant in (world.alice_api_token_id, float(world.alice_api_token_id)):
        try:
            fns["revoke_token"](token, variant, request)
            revoked = True
        except gr.Error:
            revoked = False
        tally.check(f"UI revoke A's token {variant!r}", revoked)
    tally.check("UI token list", MARK in str(fns["listed"](token, request)))
    try:
        fns["show_events"](token, request, "all", "", "", "", "")
        admin_seen = True
    except gr.Error:
        admin_seen = False
    tally.check("UI admin events as a non-admin", admin_seen)
    # Last: B deletes all of B's own history; A's must stay.
    fns["delete_everything"](token, request, *_filter_values({}))
    tally.check("UI delete everything", len(snapshot_ids(services, world.alice)) < 18)


def snapshot_ids(services: Services, user_id: int) -> list[int]:
    return [row_id for row_id, _ in snapshot(services, user_id)["rows"]]


def test_user_b_never_reaches_user_a_data(
    client: TestClient, live_server: str, services: Services, world: World
) -> None:
    before = snapshot(services, world.alice)
    assert len(before["rows"]) == 18 and len(before["tokens"]) == 1  # 14 + 4 batch rows
    tally = Tally()
    rest_attempts(client, world, tally)
    rest = tally.attempts
    gradio_client_attempts(live_server, world, tally)
    via_gradio = tally.attempts - rest
    ui_attempts(services, world, tally)
    via_ui = tally.attempts - rest - via_gradio
    assert tally.breaches == []
    assert (rest, via_gradio, via_ui) == (150, 50, 58)  # 6 of them results.xlsx
    assert tally.attempts >= MIN_ATTEMPTS
    assert snapshot(services, world.alice) == before
    # A still sees all of it, so the attempts above were aimed at data that is there.
    own = client.get("/api/history", headers=bearer(world.alice_token))
    assert sum(MARK in item["text"] for item in own.json()["items"]) == 18


@pytest.fixture
def running_job(services: Services, world: World, tmp_path: Path) -> Iterator[str]:
    """A's batch, scoring in the background; cancelled by A afterwards."""
    texts = [f"{MARK} review {n}, pleasant enough" for n in range(20_000)]
    job = services.batches.submit(world.alice, _write_csv(tmp_path / "big.csv", texts), "big.csv")
    yield job.id
    services.batches.cancel(world.alice, job.id)


def test_user_b_cannot_see_or_cancel_a_running_batch(
    client: TestClient, services: Services, world: World, running_job: str
) -> None:
    tally = Tally()
    bob = bearer(world.bob_token)
    fns = ui_handlers(build_ui(services))
    for _ in range(3):
        response = client.post(f"/api/batch/{running_job}/cancel", headers=bob)
        tally.check("REST cancel A's running job", response.status_code < 300)
        response = client.get(f"/api/batch/{running_job}", headers=bob)
        tally.check("REST status of A's running job", response.status_code < 300)
        stopped = fns["stop"](world.bob_token, crafted_request(world.bob_token))
        tally.check("UI stop while A's job runs", stopped != "No batch is running.")
    tally.check("service cancel as B", services.batches.cancel(world.bob, running_job) > 0)
    tally.check("service cancel-all as B", services.batches.cancel(world.bob) > 0)
    assert tally.breaches == [] and tally.attempts == 11
    assert services.batches.job(world.alice, running_job).status in ("queued", "running")
    # A can cancel it: the job B aimed at was really running.
    assert services.batches.cancel(world.alice, running_job) == 1
    assert services.batches.job(world.alice, running_job).status == "cancelled"
