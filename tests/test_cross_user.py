"""User B can never read, export or delete user A's rows: REST, gradio_client, UI handlers."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from fastapi.testclient import TestClient
from gradio_client import Client
from starlette.requests import Request

from services import Services
from storage.predictions import HistoryFilters
from tests.analysis_factories import add_rows, make_user
from tests.helpers import bearer
from ui.app import build_ui

SECRET = "alice's private diary entry"
NO_FILTERS = ("all", "all", "", "", "", "")


@pytest.fixture
def alice_and_bob(services: Services) -> dict[str, Any]:
    alice_id, _ = make_user(services)
    bob_id, bob_token = make_user(services)
    alice_rows = add_rows(services, alice_id, [SECRET, "another secret of alice"])
    add_rows(services, bob_id, ["bob's own text"])
    return {"alice": alice_id, "bob_token": bob_token, "alice_rows": alice_rows}


def alice_rows_left(services: Services, alice: int) -> int:
    return services.history.count(alice, HistoryFilters())


def test_rest(client: TestClient, services: Services, alice_and_bob: dict[str, Any]) -> None:
    bob = bearer(alice_and_bob["bob_token"])
    listed = client.get("/api/history", headers=bob).json()
    assert [item["text"] for item in listed["items"]] == ["bob's own text"]
    assert SECRET not in client.get("/api/history/export.csv", headers=bob).text
    assert SECRET not in client.get("/api/history", params={"search": "diary"}, headers=bob).text
    assert "diary" not in client.get("/api/insights", headers=bob).text
    for row_id in alice_and_bob["alice_rows"]:
        response = client.delete(f"/api/history/{row_id}", headers=bob)
        assert response.status_code == 404
    assert alice_rows_left(services, alice_and_bob["alice"]) == 2


def test_gradio_client(live_server: str, services: Services, alice_and_bob: dict[str, Any]) -> None:
    token = alice_and_bob["bob_token"]
    client = Client(live_server, verbose=False)
    try:
        page = client.predict(token, api_name="/history")
        assert [item["text"] for item in page["items"]] == ["bob's own text"]
        assert client.predict(token, search="diary", api_name="/history")["items"] == []
        assert client.predict(token, api_name="/insights")["total"] == 1
    finally:
        client.close()


def _request(token: str) -> gr.Request:
    scope = {
        "type": "http",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": ("203.0.113.5", 1234),
    }
    return gr.Request(request=Request(scope))


def _handler(blocks: gr.Blocks, name: str) -> Callable[..., Any]:
    for fn in blocks.fns.values():
        if fn.name == name:
            assert fn.fn is not None
            return fn.fn
    raise AssertionError(f"no handler named {name}")


def test_ui_handlers(services: Services, alice_and_bob: dict[str, Any], tmp_path: Path) -> None:
    """The History tab's own handlers, called as a crafted HTTP request would call them."""
    blocks = build_ui(services)
    token = alice_and_bob["bob_token"]
    shown = _handler(blocks, "newest")(token, _request(token), *NO_FILTERS)
    texts = [list(value["text"]) for value in shown.values() if hasattr(value, "columns")]
    assert texts == [["bob's own text"]]

    deleted = _handler(blocks, "delete_selected")(
        token, alice_and_bob["alice_rows"], _request(token), *NO_FILTERS
    )
    assert any("Deleted 0 predictions" in str(v) for v in deleted.values())
    assert alice_rows_left(services, alice_and_bob["alice"]) == 2

    path = _handler(blocks, "export_csv")(token, _request(token), *NO_FILTERS)
    with open(path, encoding="utf-8") as handle:
        exported = [row["text"] for row in csv.DictReader(handle)]
    assert exported == ["bob's own text"]
    assert len(Path(path).stem.removeprefix("sentiscope-history-")) >= 16  # unguessable

    # The session state may be empty (an API caller): the header is used; a bad one refused.
    with pytest.raises(gr.Error):
        _handler(blocks, "newest")(None, _request("not-a-token"), *NO_FILTERS)
