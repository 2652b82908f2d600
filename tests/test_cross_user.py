"""User B can never read, export or delete user A's rows: REST, gradio_client, UI handlers."""

from __future__ import annotations

import csv
from pathlib import Path

import gradio as gr
import pytest
from fastapi.testclient import TestClient
from gradio_client import Client

from services import Services
from storage.predictions import HistoryFilters
from tests.analysis_factories import AliceAndBob, alice_and_bob
from tests.helpers import bearer
from tests.ui_calls import crafted_request, ui_handler
from ui.app import build_ui

SECRET = "alice's private diary entry"
NO_FILTERS = ("all", "all", "", "", "", "")


@pytest.fixture
def users(services: Services) -> AliceAndBob:
    return alice_and_bob(services, [SECRET, "another secret of alice"], ["bob's own text"])


def alice_rows_left(services: Services, alice: int) -> int:
    return services.history.count(alice, HistoryFilters())


def test_rest(client: TestClient, services: Services, users: AliceAndBob) -> None:
    bob = bearer(users.bob_token)
    listed = client.get("/api/history", headers=bob).json()
    assert [item["text"] for item in listed["items"]] == ["bob's own text"]
    assert SECRET not in client.get("/api/history/export.csv", headers=bob).text
    assert SECRET not in client.get("/api/history", params={"search": "diary"}, headers=bob).text
    assert "diary" not in client.get("/api/insights", headers=bob).text
    for row_id in users.alice_rows:
        response = client.delete(f"/api/history/{row_id}", headers=bob)
        assert response.status_code == 404
    assert alice_rows_left(services, users.alice) == 2


def test_gradio_client(live_server: str, services: Services, users: AliceAndBob) -> None:
    token = users.bob_token
    client = Client(live_server, verbose=False)
    try:
        page = client.predict(token, api_name="/history")
        assert [item["text"] for item in page["items"]] == ["bob's own text"]
        assert client.predict(token, search="diary", api_name="/history")["items"] == []
        assert client.predict(token, api_name="/insights")["total"] == 1
    finally:
        client.close()


def test_ui_handlers(services: Services, users: AliceAndBob, tmp_path: Path) -> None:
    """The History tab's own handlers, called as a crafted HTTP request would call them."""
    blocks = build_ui(services)
    token = users.bob_token
    shown = ui_handler(blocks, "newest")(token, crafted_request(token), *NO_FILTERS)
    texts = [list(value["text"]) for value in shown.values() if hasattr(value, "columns")]
    assert texts == [["bob's own text"]]

    deleted = ui_handler(blocks, "delete_selected")(
        token, users.alice_rows, crafted_request(token), *NO_FILTERS
    )
    assert any("Deleted 0 predictions" in str(v) for v in deleted.values())
    assert alice_rows_left(services, users.alice) == 2

    path = ui_handler(blocks, "export_csv")(token, crafted_request(token), *NO_FILTERS)
    with open(path, encoding="utf-8") as handle:
        exported = [row["text"] for row in csv.DictReader(handle)]
    assert exported == ["bob's own text"]
    assert len(Path(path).stem.removeprefix("sentiscope-history-")) >= 16  # unguessable

    # The session state may be empty (an API caller): the header is used; a bad one refused.
    with pytest.raises(gr.Error):
        ui_handler(blocks, "newest")(None, crafted_request("not-a-token"), *NO_FILTERS)
