"""Sessions over REST (OWASP ASVS 7.4.1-7.4.3): a token stops working after logout (this
session only), "log out everywhere", a password change, the account being disabled or
deleted; revoked token ids are forgotten once the token would have expired anyway."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from services import Services
from storage.models import RevokedToken, User
from tests.helpers import PASSWORD, FakeClock, api_login, bearer, new_username


def register(client: TestClient) -> str:
    username = new_username()
    response = client.post("/api/auth/register", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return username


def me(client: TestClient, token: str) -> int:
    return client.get("/api/auth/me", headers=bearer(token)).status_code


def refused(client: TestClient, token: str) -> None:
    response = client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_token"
    assert "ended" in response.json()["error"]["message"]


def test_logout_ends_this_token_only(client: TestClient) -> None:
    username = register(client)
    first, second = api_login(client, username), api_login(client, username)
    assert client.post("/api/auth/logout", headers=bearer(first)).status_code == 204
    refused(client, first)
    assert client.post("/api/auth/logout", headers=bearer(first)).status_code == 401
    assert me(client, second) == 200


def test_logout_all_ends_every_login_but_not_personal_api_tokens(client: TestClient) -> None:
    username = register(client)
    tokens = [api_login(client, username) for _ in range(3)]
    created = client.post("/api/tokens", json={"name": "script"}, headers=bearer(tokens[0]))
    assert created.status_code == 201, created.text
    personal = created.json()["token"]
    assert client.post("/api/auth/logout-all", headers=bearer(tokens[1])).status_code == 204
    for token in tokens:
        refused(client, token)
    assert me(client, personal) == 200
    assert me(client, api_login(client, username)) == 200


def test_logging_out_with_a_personal_api_token_says_how_to_revoke_it(client: TestClient) -> None:
    username = register(client)
    token = api_login(client, username)
    personal = client.post("/api/tokens", json={"name": "ci"}, headers=bearer(token)).json()
    response = client.post("/api/auth/logout", headers=bearer(personal["token"]))
    assert response.status_code == 422
    assert "deleting it" in response.json()["error"]["message"]
    assert me(client, personal["token"]) == 200 and me(client, token) == 200


def test_password_change_ends_every_other_token(client: TestClient) -> None:
    username = register(client)
    first, second = api_login(client, username), api_login(client, username)
    response = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a fresh passphrase"},
        headers=bearer(first),
    )
    assert response.status_code == 200
    refused(client, first)
    refused(client, second)
    assert me(client, response.json()["access_token"]) == 200


def test_disabling_an_account_ends_its_tokens(client: TestClient, services: Services) -> None:
    username = register(client)
    token = api_login(client, username)
    with services.db.session_scope() as session:
        session.execute(update(User).where(User.username == username).values(disabled=True))
    refused(client, token)
    response = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 403


def test_deleting_an_account_ends_its_tokens_even_when_its_id_is_reused(
    client: TestClient, services: Services
) -> None:
    username = register(client)
    token = api_login(client, username)
    old_id = client.get("/api/auth/me", headers=bearer(token)).json()["id"]
    services.accounts.delete_account(token, PASSWORD)
    refused(client, token)
    # SQLite hands the highest id out again; the old token must not open the new account.
    newcomer = register(client)
    new_token = api_login(client, newcomer)
    new_id = client.get("/api/auth/me", headers=bearer(new_token)).json()["id"]
    if services.db.engine.dialect.name == "sqlite":
        assert new_id == old_id
    refused(client, token)


def revoked_rows(services: Services, user_id: int) -> int:
    query = select(func.count()).where(RevokedToken.user_id == user_id)
    with services.db.session_scope() as session:
        return session.scalar(query) or 0


def test_revoked_ids_are_pruned_once_their_tokens_expire(timed: Services, clock: FakeClock) -> None:
    username = new_username()
    account = timed.accounts.register(username, PASSWORD)
    for _ in range(3):
        timed.accounts.logout(timed.accounts.login(username, PASSWORD).token.access_token)
    assert revoked_rows(timed, account.id) == 3
    clock.advance(hours=23)
    kept = timed.accounts.login(username, PASSWORD).token.access_token
    timed.accounts.logout(timed.accounts.login(username, PASSWORD).token.access_token)
    assert revoked_rows(timed, account.id) == 4  # the first three have not expired yet
    clock.advance(hours=1)
    timed.accounts.logout(kept)
    assert revoked_rows(timed, account.id) == 2  # theirs expired: only the last two stay
