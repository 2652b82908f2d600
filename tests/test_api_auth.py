"""REST auth flows through the real FastAPI app (with Gradio mounted) and database."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from services import Services
from tests.helpers import PASSWORD, api_login, bearer, new_username, stored_parts


def register(client: TestClient, username: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/auth/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    return response.json()


def protected_operations(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) whose OpenAPI entry requires the bearer token."""
    operations = [
        (method.upper(), path)
        for path, item in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method, operation in item.items()
        if operation.get("security")
    ]
    assert {("GET", "/api/auth/me"), ("POST", "/api/auth/logout")} <= set(operations)
    return operations


def test_healthz_reports_database_and_model(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["model"].startswith("bundled-")  # the bundled model, with its weights' digest
    assert body == {"status": "ok", "database": "ok", "model": body["model"]}


def test_register_then_token_then_me(client: TestClient) -> None:
    username = new_username()
    created = register(client, username)
    assert created["username"] == username and created["is_admin"] is False
    assert "password" not in str(created) and "hash" not in str(created)
    response = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 24 * 3600
    me = client.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() == created


def test_duplicate_username_is_409(client: TestClient) -> None:
    username = new_username()
    register(client, username)
    response = client.post(
        "/api/auth/register", json={"username": username.upper(), "password": PASSWORD}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_weak_password_is_422_with_the_rule(client: TestClient) -> None:
    response = client.post(
        "/api/auth/register", json={"username": new_username(), "password": "short"}
    )
    assert response.status_code == 422
    assert "8 to 128" in response.json()["error"]["message"]


def test_logout_invalidates_the_token(client: TestClient) -> None:
    username = new_username()
    register(client, username)
    token = api_login(client, username)
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    response = client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_password_change_invalidates_the_old_token(client: TestClient) -> None:
    username = new_username()
    register(client, username)
    old = api_login(client, username)
    response = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new passphrase"},
        headers=bearer(old),
    )
    assert response.status_code == 200
    new = response.json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(old)).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(new)).status_code == 200
    assert api_login(client, username, "a new passphrase")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."},
    ],
    ids=["no token", "garbage", "basic auth", "alg none"],
)
def test_every_protected_route_is_401_without_a_valid_token(
    client: TestClient, headers: dict[str, str]
) -> None:
    for method, path in protected_operations(client):
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] in {"not_authenticated", "invalid_token"}


def test_every_protected_route_is_401_after_logout(client: TestClient) -> None:
    username = new_username()
    register(client, username)
    token = api_login(client, username)
    client.post("/api/auth/logout", headers=bearer(token))
    for method, path in protected_operations(client):
        response = client.request(method, path, headers=bearer(token), json={})
        assert response.status_code == 401, (method, path)


def test_unknown_user_and_wrong_password_get_identical_replies(client: TestClient) -> None:
    username = new_username()
    register(client, username)
    wrong = client.post("/api/auth/token", data={"username": username, "password": "nope nope"})
    unknown = client.post(
        "/api/auth/token", data={"username": new_username(), "password": "nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")


def test_passwords_and_tokens_never_reach_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    username, password = new_username(), "my secret passphrase 42"
    with caplog.at_level(logging.DEBUG):
        register(client, username, password)
        token = api_login(client, username, password)
        client.post("/api/auth/token", data={"username": username, "password": "wrong secret 99"})
        client.post(
            "/api/auth/password",
            json={"current_password": password, "new_password": "next secret passphrase"},
            headers=bearer(token),
        )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (password, "wrong secret 99", "next secret passphrase", token):
        assert secret not in logged


def test_openapi_offers_the_password_flow_for_the_authorize_button(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    (scheme,) = schema["components"]["securitySchemes"].values()
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/auth/token"
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text  # works offline: the assets are served locally
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_deleting_the_account_takes_its_data_and_files(
    client: TestClient, services: Services
) -> None:
    username = new_username()
    register(client, username)
    token = api_login(client, username)
    upload = {"file": ("mine.csv", b"text\nlovely\nawful\n", "text/csv")}
    batch = client.post("/api/batch", headers=bearer(token), files=upload)
    assert batch.status_code == 202, batch.text
    user_id = client.get("/api/auth/me", headers=bearer(token)).json()["id"]
    job_id = services.batches.wait(user_id, batch.json()["job_id"]).id
    assert stored_parts(services, job_id) > 0

    wrong = client.post(
        "/api/auth/delete-account", json={"password": "not the password"}, headers=bearer(token)
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert stored_parts(services, job_id) > 0
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200

    deleted = client.post(
        "/api/auth/delete-account", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert deleted.status_code == 204
    assert stored_parts(services, job_id) == 0
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    login = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert login.status_code == 401


def test_a_stolen_token_cannot_guess_the_password_through_change_or_delete(
    client: TestClient,
) -> None:
    """Wrong passwords on change and delete count as failed logins (10 per 15 min)."""
    username = new_username()
    register(client, username)
    token = api_login(client, username)
    codes = []
    for i in range(12):
        if i % 2:
            body = {"current_password": f"guess {i}", "new_password": "a new passphrase"}
            response = client.post("/api/auth/password", json=body, headers=bearer(token))
        else:
            body = {"password": f"guess {i}"}
            response = client.post("/api/auth/delete-account", json=body, headers=bearer(token))
        codes.append(response.status_code)
    assert codes == [401] * 10 + [429] * 2
    right = client.post(
        "/api/auth/delete-account", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert right.status_code == 429  # even the right password waits out the lock
    assert "Retry-After" in right.headers
