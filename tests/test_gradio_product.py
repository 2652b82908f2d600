"""The live app through gradio_client: /login, /predict, /history, /insights."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gradio_client import Client

from services import Services
from tests.helpers import PASSWORD, new_username


@pytest.fixture(scope="module")
def gradio(live_server: str) -> Iterator[Client]:
    client = Client(live_server, verbose=False)
    yield client
    client.close()


@pytest.fixture
def token(gradio: Client, services: Services) -> str:
    username = new_username()
    services.accounts.register(username, PASSWORD)
    return str(gradio.predict(username, PASSWORD, api_name="/login"))


def test_login_predict_history_insights(gradio: Client, token: str) -> None:
    texts = ["I love this phone.", "The battery died in a day. Awful.", "It is blue."]
    scored = gradio.predict(texts, token, api_name="/predict")
    assert [s["text"] for s in scored] == texts
    assert scored[0]["label"] == "positive"
    assert scored[1]["label"] == "negative"
    page = gradio.predict(token, api_name="/history")
    assert [item["text"] for item in page["items"]] == list(reversed(texts))
    assert {item["source"] for item in page["items"]} == {"api"}
    negatives = gradio.predict(token, "negative", api_name="/history")
    assert [item["text"] for item in negatives["items"]] == [texts[1]]
    first = gradio.predict(token, cursor="", limit=2, api_name="/history")
    rest = gradio.predict(token, cursor=first["next_cursor"], limit=2, api_name="/history")
    assert len(first["items"]) == 2 and len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    summary = gradio.predict(token, api_name="/insights")
    assert summary["total"] == 3
    assert summary["distribution"]["positive"] >= 1


def test_bearer_header_and_personal_tokens_work(live_server: str, services: Services) -> None:
    username = new_username()
    account = services.accounts.register(username, PASSWORD)
    personal = services.personal_tokens.create(account.id, "gradio script").token
    c = Client(live_server, verbose=False, headers={"Authorization": f"Bearer {personal}"})
    try:
        c.predict(["Fine."], api_name="/predict")  # no token argument: the header is used
        assert len(c.predict(api_name="/history")["items"]) == 1
        assert c.predict(personal, api_name="/insights")["total"] == 1
    finally:
        c.close()


def test_calls_without_a_valid_token_are_refused(gradio: Client) -> None:
    for args, api_name in [
        ((["x"], ""), "/predict"),
        (("",), "/history"),
        (("not-a-token",), "/history"),
        (("sst_revoked",), "/insights"),
    ]:
        with pytest.raises(Exception, match=r"not logged in|not valid|invalid"):
            gradio.predict(*args, api_name=api_name)


def test_wrong_password_on_login(gradio: Client) -> None:
    with pytest.raises(Exception, match="Incorrect username or password"):
        gradio.predict(new_username(), "whatever-password", api_name="/login")


def test_only_the_documented_endpoints_are_public(gradio: Client) -> None:
    endpoints = set(gradio.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/login", "/predict", "/history", "/insights", "/register"} <= endpoints
    assert not endpoints & {"/logout", "/change_password", "/analyze", "/delete_account"}
