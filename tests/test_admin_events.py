"""The admin's auth event audit trail: the service, the Admin tab's handlers and the REST route.

Filters (event, username, client IP, date range), newest first, paging with a total;
admins only; usernames typed with CR/LF/U+2028 are shown inert.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import gradio as gr
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from analysis.admin import inert, make_event_filters
from auth.service import Account, ClientInfo
from errors import InvalidCredentials, InvalidInput, PermissionDenied
from services import Services
from storage import auth_events
from storage.auth_events import EventFilters
from tests.helpers import PASSWORD, api_login, bearer, new_username
from tests.ui_calls import crafted_request, ui_handler
from ui.app import build_ui

DAY0 = datetime(2031, 5, 1, 8, 0, tzinfo=UTC)
FORGED = "mallory\r\n2031-05-01 08:00:00 login_success admin\u2028x"


@pytest.fixture(scope="module")
def admin(services: Services) -> tuple[Account, str]:
    username = new_username()
    account = services.accounts.register(username, PASSWORD, is_admin=True)
    return account, username


@pytest.fixture(scope="module")
def member(services: Services) -> tuple[Account, str]:
    username = new_username()
    return services.accounts.register(username, PASSWORD), username


@pytest.fixture(scope="module")
def tagged(services: Services) -> str:
    """Ten events of users named `<tag>-n`, one a day from DAY0, two event types, two IPs."""
    tag = f"t{uuid.uuid4().hex[:8]}"
    with services.db.session_scope() as session:
        for n in range(10):
            auth_events.record(
                session,
                event="probe_a" if n % 2 == 0 else "probe_b",
                username=f"{tag}-{n}",
                user_id=None,
                client_ip=f"198.51.100.{n % 2}",
                user_agent="pytest",
                created_at=DAY0 + timedelta(days=n),
            )
    return tag


def _names(services: Services, account: Account, filters: EventFilters, **page: int) -> list[str]:
    return [row.username for row in services.admin.events(account, filters, **page).rows]


def test_non_admins_are_refused(services: Services, member: tuple[Account, str]) -> None:
    with pytest.raises(PermissionDenied, match="Only administrators"):
        services.admin.events(member[0], EventFilters())
    with pytest.raises(PermissionDenied):
        services.admin.event_names(member[0])


def test_filters_order_and_paging(
    services: Services, admin: tuple[Account, str], tagged: str
) -> None:
    account = admin[0]
    everything = make_event_filters(username=tagged)
    page = services.admin.events(account, everything, limit=4)
    assert page.total == 10
    assert [row.username for row in page.rows] == [f"{tagged}-{n}" for n in (9, 8, 7, 6)]
    assert page.describe() == "10 matching events; showing 1–4, newest first."
    last = services.admin.events(account, everything, offset=8, limit=4)
    assert [row.username for row in last.rows] == [f"{tagged}-1", f"{tagged}-0"]
    assert not last.has_older and page.has_older

    by_event = make_event_filters(event="probe_b", username=tagged.upper())
    assert _names(services, account, by_event) == [f"{tagged}-{n}" for n in (9, 7, 5, 3, 1)]
    by_ip = make_event_filters(username=tagged, client_ip="198.51.100.0")
    assert _names(services, account, by_ip) == [f"{tagged}-{n}" for n in (8, 6, 4, 2, 0)]
    # Both ends inclusive, whole UTC days.
    days = make_event_filters(username=tagged, since="2031-05-03", until="2031-05-05")
    assert _names(services, account, days) == [f"{tagged}-{n}" for n in (4, 3, 2)]
    # LIKE wildcards typed in a filter match only themselves.
    assert services.admin.events(account, make_event_filters(username="%")).total == 0
    assert services.admin.events(account, make_event_filters(username=f"{tagged}_")).total == 0
    assert services.admin.events(account, make_event_filters(client_ip="_")).total == 0


def test_bad_filters_say_what_to_fix() -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        make_event_filters(since="yesterday")
    with pytest.raises(InvalidInput, match="swap"):
        make_event_filters(since="2031-05-03", until="2031-05-01")
    with pytest.raises(InvalidInput, match="at most 64"):
        make_event_filters(username="x" * 65)
    assert make_event_filters(event="all") == EventFilters()


def test_event_types_come_from_the_data(services: Services, admin: tuple[Account, str]) -> None:
    """The filter's choices are the names recorded, whatever auth/ calls them."""
    stranger = new_username()
    with pytest.raises(InvalidCredentials):
        services.accounts.login(stranger, "wrong password!", ClientInfo(ip="192.0.2.77"))
    (row,) = services.admin.events(admin[0], make_event_filters(username=stranger)).rows
    assert row.client_ip == "192.0.2.77"
    assert row.event in services.admin.event_names(admin[0])
    only = make_event_filters(event=row.event, username=stranger)
    assert services.admin.events(admin[0], only).total == 1


def test_inert_escapes_line_breaks_and_controls() -> None:
    shown = inert(FORGED + "\x1b[31m\u202e\\")
    assert shown == (
        "mallory\\r\\n2031-05-01 08:00:00 login_success admin\\u2028x\\u001b[31m\\u202e\\\\"
    )
    assert inert(None) == "" and inert("plain") == "plain"


def _frame(result: dict[Any, Any], elem_id: str) -> pd.DataFrame:
    (frame,) = [v for k, v in result.items() if getattr(k, "elem_id", None) == elem_id]
    return frame


def _text(result: dict[Any, Any], elem_id: str) -> str:
    (value,) = [v for k, v in result.items() if getattr(k, "elem_id", None) == elem_id]
    return str(value)


def test_admin_tab_handlers(
    services: Services, admin: tuple[Account, str], member: tuple[Account, str], tagged: str
) -> None:
    blocks = build_ui(services)
    show, older = ui_handler(blocks, "show_events"), ui_handler(blocks, "page_older")
    token = services.accounts.login(admin[1], PASSWORD).token.access_token
    with pytest.raises(InvalidCredentials):
        services.accounts.login(FORGED, "wrong password!", ClientInfo(ip="192.0.2.78"))

    first = show(token, crafted_request(token), "all", tagged, "", "", "")
    assert _text(first, "admin-events-status") == "10 matching events; showing 1–10, newest first."
    frame = _frame(first, "admin-events")
    assert list(frame["username"]) == [f"{tagged}-{n}" for n in range(9, -1, -1)]
    assert list(frame["when (UTC)"])[:2] == ["2031-05-10 08:00:00", "2031-05-09 08:00:00"]
    assert not _frame(first, "admin-users").empty

    filtered = show(
        token, crafted_request(token), "probe_a", tagged, "198.51", "2031-05-01", "2031-05-04"
    )
    assert list(_frame(filtered, "admin-events")["username"]) == [f"{tagged}-2", f"{tagged}-0"]
    # Paging moves by the page size; past the end the count still says how many match.
    beyond = older(token, 0, crafted_request(token), "all", tagged, "", "", "")
    assert _text(beyond, "admin-events-status") == "10 matching events; none on this page."

    forged = show(token, crafted_request(token), "all", "mallory", "192.0.2.78", "", "")
    (cell,) = list(_frame(forged, "admin-events")["username"])
    assert "\r" not in cell and "\n" not in cell and "\u2028" not in cell
    assert cell.startswith("mallory\\r\\n2031-05-01")

    with pytest.raises(gr.Error, match="YYYY-MM-DD"):
        show(token, crafted_request(token), "all", "", "", "last week", "")

    member_token = services.accounts.login(member[1], PASSWORD).token.access_token
    with pytest.raises(gr.Error, match="Only administrators"):
        show(member_token, crafted_request(member_token), "all", "", "", "", "")
    with pytest.raises(gr.Error, match="not logged in"):
        show(None, gr.Request(request=Request({"type": "http", "headers": []})), *["all"] * 5)
    hidden = ui_handler(blocks, "on_login_change")(member_token, crafted_request(member_token))
    assert any(getattr(v, "visible", None) is False for v in hidden.values())


def test_rest_route(
    client: TestClient, admin: tuple[Account, str], member: tuple[Account, str], tagged: str
) -> None:
    url = "/api/admin/auth-events"
    assert client.get(url).status_code == 401
    refused = client.get(url, headers=bearer(api_login(client, member[1])))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"

    headers = bearer(api_login(client, admin[1]))
    body = client.get(url, params={"username": tagged, "limit": 3}, headers=headers).json()
    assert body["total"] == 10 and body["limit"] == 3 and body["offset"] == 0
    assert [item["username"] for item in body["items"]] == [f"{tagged}-{n}" for n in (9, 8, 7)]
    params: dict[str, str | int] = {
        "username": tagged,
        "event": "probe_b",
        "client_ip": "198.51.100.1",
        "since": "2031-05-02",
        "until": "2031-05-06",
        "offset": 1,
    }
    body = client.get(url, params=params, headers=headers).json()
    assert body["total"] == 3
    assert [item["username"] for item in body["items"]] == [f"{tagged}-3", f"{tagged}-1"]
    assert body["items"][0]["user_agent"] == "pytest"

    bad_params: list[dict[str, str | int]] = [
        {"since": "nope"},
        {"since": "2031-05-03", "until": "2031-05-01"},
        {"limit": 0},
    ]
    for bad in bad_params:
        response = client.get(url, params=bad, headers=headers)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "invalid_input"

    client.post(
        "/api/auth/token", data={"username": FORGED + "rest", "password": "wrong password!"}
    )
    raw = client.get(url, params={"username": "mallory"}, headers=headers)
    assert "\r" not in raw.text and "\n" not in raw.text  # JSON escapes them
    assert any(item["username"].startswith("mallory\r\n") for item in raw.json()["items"])
