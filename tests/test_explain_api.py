"""POST /api/explain and gradio_client /explain: the label and each word's weight."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gradio_client import Client

from services import Services
from tests.analysis_factories import make_user
from tests.helpers import bearer

TEXT = "Great phone, but the battery is terrible."


def check(result: dict[str, Any], text: str = TEXT) -> dict[str, float]:
    """The offsets point at the words; returns word -> weight."""
    assert result["label"] == "negative"
    assert 0.5 < result["score"] <= 1
    for word in result["words"]:
        assert text[word["start"] : word["end"]] == word["word"]
    words = [w["word"] for w in result["words"]]
    assert words == ["Great", "phone", ",", "but", "the", "battery", "is", "terrible", "."]
    return {w["word"]: w["weight"] for w in result["words"]}


def test_rest_explains_and_saves_nothing(client: TestClient, services: Services) -> None:
    _, token = make_user(services)
    response = client.post("/api/explain", json={"text": TEXT}, headers=bearer(token))
    assert response.status_code == 200, response.text
    weights = check(response.json())
    assert weights["terrible"] == max(weights.values()) > 0  # raises "negative"
    assert weights["Great"] < 0  # lowers it
    assert client.get("/api/history", headers=bearer(token)).json()["items"] == []


def test_explanations_run_on_the_inference_loop(client: TestClient, services: Services) -> None:
    _, token = make_user(services)
    before = services.scheduler.passes
    response = client.post("/api/explain", json={"text": TEXT}, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert services.scheduler.passes > before  # shared with predictions, not beside them


def test_rest_offsets_count_characters_not_bytes(client: TestClient, services: Services) -> None:
    _, token = make_user(services)
    text = "Café 😀  naïve, très décevant!"
    result = client.post("/api/explain", json={"text": text}, headers=bearer(token)).json()
    assert [text[w["start"] : w["end"]] for w in result["words"]] == [
        w["word"] for w in result["words"]
    ]
    assert result["words"][1]["word"] == "😀"


def test_rest_errors_have_the_predict_shape(client: TestClient, services: Services) -> None:
    anonymous = client.post("/api/explain", json={"text": TEXT})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "invalid_token"
    _, token = make_user(services)
    for body in ({"text": "   "}, {}, {"text": "x" * (services.settings.MAX_TEXT_CHARS + 1)}):
        response = client.post("/api/explain", json=body, headers=bearer(token))
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_input"
        assert response.json()["error"]["message"]


@pytest.fixture(scope="module")
def gradio(live_server: str) -> Iterator[Client]:
    client = Client(live_server, verbose=False)
    yield client
    client.close()


def test_gradio_client_explains(gradio: Client, services: Services) -> None:
    _, token = make_user(services)
    weights = check(gradio.predict(TEXT, token, api_name="/explain"))
    assert weights["terrible"] == max(weights.values())


def test_gradio_client_needs_a_token(gradio: Client) -> None:
    with pytest.raises(Exception, match=r"not logged in|not valid|invalid"):
        gradio.predict(TEXT, "", api_name="/explain")
