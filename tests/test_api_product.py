"""REST: predict, history (filters, cursor paging, delete, CSV export), insights, tokens."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from services import Services
from tests.analysis_factories import add_rows, make_user
from tests.helpers import bearer, pool_checkouts


def test_predict_one_and_many_then_see_them_in_history(client: TestClient) -> None:
    _, token = make_user(client.app.state.services)  # type: ignore[attr-defined]
    one = client.post("/api/predict", json={"text": "Absolutely wonderful!"}, headers=bearer(token))
    assert one.status_code == 200, one.text
    (result,) = one.json()["predictions"]
    assert result["label"] == "positive"
    assert set(result["probabilities"]) == {"negative", "neutral", "positive"}
    many = client.post(
        "/api/predict",
        json={"texts": ["Terrible.", "It is a chair.", "Love it"]},
        headers=bearer(token),
    )
    assert many.json()["predictions"][0]["label"] == "negative"
    history = client.get("/api/history", headers=bearer(token)).json()
    assert len(history["items"]) == 4
    assert {item["source"] for item in history["items"]} == {"api"}
    assert history["next_cursor"] is None


def test_a_history_page_and_its_token_check_share_one_connection(
    client: TestClient, services: Services
) -> None:
    _, token = make_user(services)
    client.post("/api/predict", json={"text": "Fine."}, headers=bearer(token))
    with pool_checkouts(services.db.engine) as checkouts:
        page = client.get("/api/history", headers=bearer(token))
        refused = client.get("/api/history", headers=bearer(token + "x"))
    assert page.status_code == 200 and len(page.json()["items"]) == 1
    assert refused.status_code == 401
    assert len(checkouts) == 1  # one ping and checkout for the page; a forged token needs none


def test_predict_validates_its_body(client: TestClient, services: Services) -> None:
    _, token = make_user(services)
    both = client.post("/api/predict", json={"text": "a", "texts": ["b"]}, headers=bearer(token))
    assert both.status_code == 422
    assert both.json()["error"]["code"] == "invalid_input"
    limit = services.settings.MAX_TEXTS_PER_REQUEST
    many = client.post("/api/predict", json={"texts": ["x"] * (limit + 1)}, headers=bearer(token))
    assert many.status_code == 422
    assert "the limit is" in many.json()["error"]["message"]
    empty = client.post("/api/predict", json={"text": "   "}, headers=bearer(token))
    assert empty.status_code == 422


def test_every_product_route_needs_a_token(client: TestClient) -> None:
    for method, path in [
        ("POST", "/api/predict"),
        ("GET", "/api/history"),
        ("GET", "/api/history/export.csv"),
        ("DELETE", "/api/history/1"),
        ("GET", "/api/insights"),
        ("GET", "/api/tokens"),
        ("POST", "/api/tokens"),
        ("DELETE", "/api/tokens/1"),
    ]:
        response = client.request(method, path, json={"text": "x", "name": "x"})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "invalid_token"


def test_history_filters_and_cursor_paging(client: TestClient, services: Services) -> None:
    user_id, token = make_user(services)
    add_rows(services, user_id, [f"good {i}" for i in range(7)])
    add_rows(services, user_id, ["bad one"], label="negative")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "label": "positive", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/history", params=params, headers=bearer(token)).json()
        seen += [item["text"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"good {i}" for i in reversed(range(7))]
    search = client.get("/api/history", params={"search": "BAD"}, headers=bearer(token))
    assert [item["text"] for item in search.json()["items"]] == ["bad one"]
    wrong = client.get("/api/history", params={"label": "happy"}, headers=bearer(token))
    assert wrong.status_code == 422
    bad_cursor = client.get("/api/history", params={"cursor": "zzz"}, headers=bearer(token))
    assert bad_cursor.status_code == 422
    assert "cursor" in bad_cursor.json()["error"]["message"]


def test_delete_one_and_export_csv(client: TestClient, services: Services) -> None:
    user_id, token = make_user(services)
    first, second = add_rows(services, user_id, ["keep me", "drop me"])
    assert client.delete(f"/api/history/{second}", headers=bearer(token)).status_code == 204
    again = client.delete(f"/api/history/{second}", headers=bearer(token))
    assert again.status_code == 404
    export = client.get("/api/history/export.csv", headers=bearer(token))
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(int(r["id"]), r["text"]) for r in rows] == [(first, "keep me")]


def test_insights_counts_and_top_words(client: TestClient, services: Services) -> None:
    user_id, token = make_user(services)
    empty = client.get("/api/insights", headers=bearer(token)).json()
    assert empty["total"] == 0
    add_rows(services, user_id, ["pizza pizza pasta"], label="positive")
    add_rows(services, user_id, ["cold pizza"], label="negative")
    found = client.get("/api/insights", headers=bearer(token)).json()
    assert found["distribution"] == {"negative": 1, "neutral": 0, "positive": 1}
    assert found["top_words"]["positive"][0] == {"word": "pizza", "count": 2}
    assert sum(day["count"] for day in found["trend"]) == 2
    assert {b["range"] for b in found["confidence"]} == {"0.90-1.00"}


def test_personal_tokens_over_rest(client: TestClient, services: Services) -> None:
    _, token = make_user(services)
    created = client.post("/api/tokens", json={"name": "report script"}, headers=bearer(token))
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["token"]
    assert secret.startswith("sst_")
    listed = client.get("/api/tokens", headers=bearer(token)).json()
    assert [t["name"] for t in listed] == ["report script"]
    assert "token" not in listed[0]
    # The personal token works wherever a login token does.
    assert client.get("/api/auth/me", headers=bearer(secret)).status_code == 200
    scored = client.post("/api/predict", json={"text": "nice"}, headers=bearer(secret))
    assert scored.status_code == 200
    assert client.delete(f"/api/tokens/{body['id']}", headers=bearer(token)).status_code == 204
    refused = client.get("/api/history", headers=bearer(secret))
    assert refused.status_code == 401
    assert client.delete(f"/api/tokens/{body['id']}", headers=bearer(token)).status_code == 404


def test_product_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in [
        "/api/predict",
        "/api/history",
        "/api/history/{prediction_id}",
        "/api/history/export.csv",
        "/api/insights",
        "/api/tokens",
        "/api/tokens/{token_id}",
    ]:
        assert path in paths
