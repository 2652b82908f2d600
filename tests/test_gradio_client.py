"""The real Gradio server, driven through gradio_client: register and log in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gradio_client import Client

from services import Services
from storage import auth_events
from tests.helpers import PASSWORD, new_username


@pytest.fixture(scope="module")
def gradio(live_server: str) -> Iterator[Client]:
    client = Client(live_server, verbose=False)
    yield client
    client.close()


def test_register_and_login_through_gradio(gradio: Client, services: Services) -> None:
    username = new_username()
    notice, login_name, *_ = gradio.predict(username, PASSWORD, api_name="/register")
    assert notice == f"Account {username} created. Log in below."
    assert login_name == username
    token = gradio.predict(username, PASSWORD, api_name="/login")
    assert services.accounts.authenticate(token).username == username
    with services.db.session_scope() as session:
        events = [row.event for row in auth_events.for_username(session, username)]
    assert sorted(events) == ["authn_login_success", "user_created"]


def test_wrong_password_is_shown_as_an_error(gradio: Client) -> None:
    username = new_username()
    gradio.predict(username, PASSWORD, api_name="/register")
    with pytest.raises(Exception, match="Incorrect username or password"):
        gradio.predict(username, "not the password", api_name="/login")


def test_invalid_registration_explains_the_rule(gradio: Client) -> None:
    with pytest.raises(Exception, match="8 to 128 characters"):
        gradio.predict(new_username(), "short", api_name="/register")


def test_session_only_endpoints_are_not_in_the_public_api(gradio: Client) -> None:
    endpoints = set(gradio.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/register", "/login"} <= endpoints
    assert not endpoints & {"/logout", "/change_password"}
