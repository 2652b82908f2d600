"""Two-factor authentication over REST and gradio_client, on services with a fixed clock:
setup, confirm, login with `otp` (401 mfa_required without it), /me, disable."""

from __future__ import annotations

from urllib.parse import unquote

import pyotp
import pytest
from fastapi.testclient import TestClient
from gradio_client import Client

from auth.totp import PERIOD
from services import Services
from storage import auth_events
from tests.helpers import PASSWORD, FakeClock, api_login, bearer, new_username


@pytest.fixture(scope="module")
def services(timed: Services) -> Services:
    """This module's app (client, live server) runs on the fixed clock."""
    return timed


def code(secret: str, clock: FakeClock) -> str:
    return pyotp.TOTP(secret).at(clock().timestamp())


def not_(otp: str) -> str:
    """Another well-formed code."""
    return f"{(int(otp) + 1) % 1_000_000:06d}"


def token_form(username: str, otp: str | None = None) -> dict[str, str]:
    form = {"username": username, "password": PASSWORD}
    return form if otp is None else {**form, "otp": otp}


def enrolled(client: TestClient, clock: FakeClock) -> tuple[str, str, str, list[str]]:
    """(username, token, secret, recovery codes) of a new user with 2FA on, over REST."""
    username = new_username()
    response = client.post("/api/auth/register", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201
    token = api_login(client, username)
    setup = client.post("/api/auth/2fa/setup", headers=bearer(token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    confirmed = client.post(
        "/api/auth/2fa/confirm", json={"code": code(secret, clock)}, headers=bearer(token)
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(seconds=PERIOD)
    return username, token, secret, confirmed.json()["recovery_codes"]


def test_setup_returns_the_secret_uri_and_an_svg_qr_code(client: TestClient) -> None:
    username = new_username()
    client.post("/api/auth/register", json={"username": username, "password": PASSWORD})
    token = api_login(client, username)
    body = client.post("/api/auth/2fa/setup", headers=bearer(token)).json()
    assert set(body) == {"secret", "otpauth_uri", "qr_svg"}
    assert body["otpauth_uri"].startswith("otpauth://totp/Sentiscope:")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("data:image/svg+xml")
    svg = unquote(body["qr_svg"].split(",", 1)[1])
    assert "<svg" in svg
    assert client.get("/api/auth/me", headers=bearer(token)).json()["mfa_enabled"] is False


def test_login_over_rest_needs_the_code_once_two_factor_is_on(
    client: TestClient, clock: FakeClock
) -> None:
    username, token, secret, recovery = enrolled(client, clock)
    assert len(recovery) == 10
    assert client.get("/api/auth/me", headers=bearer(token)).json()["mfa_enabled"] is True
    missing = client.post("/api/auth/token", data=token_form(username))
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "mfa_required"
    assert "6-digit code" in missing.json()["error"]["message"]
    wrong = client.post("/api/auth/token", data=token_form(username, not_(code(secret, clock))))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    malformed = client.post("/api/auth/token", data=token_form(username, "12ab"))
    assert malformed.status_code == 422
    good = client.post("/api/auth/token", data=token_form(username, code(secret, clock)))
    assert good.status_code == 200, good.text
    replay = client.post("/api/auth/token", data=token_form(username, code(secret, clock)))
    assert replay.status_code == 401
    by_recovery = client.post("/api/auth/token", data=token_form(username, recovery[0]))
    assert by_recovery.status_code == 200
    again = client.post("/api/auth/token", data=token_form(username, recovery[0]))
    assert again.status_code == 401


def test_confirm_and_disable_answer_bad_input_clearly(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    username = new_username()
    client.post("/api/auth/register", json={"username": username, "password": PASSWORD})
    token = api_login(client, username)
    not_started = client.post(
        "/api/auth/2fa/confirm", json={"code": "123456"}, headers=bearer(token)
    )
    assert not_started.status_code == 409
    assert "setup first" in not_started.json()["error"]["message"]
    not_on = client.post(
        "/api/auth/2fa/disable",
        json={"password": PASSWORD, "code": "123456"},
        headers=bearer(token),
    )
    assert not_on.status_code == 409
    client.post("/api/auth/2fa/setup", headers=bearer(token))
    malformed = client.post("/api/auth/2fa/confirm", json={"code": "12"}, headers=bearer(token))
    assert malformed.status_code == 422
    assert "6-digit code" in malformed.json()["error"]["message"]
    assert client.get("/api/auth/me", headers=bearer(token)).json()["mfa_enabled"] is False
    with services.db.session_scope() as session:
        events = [row.event for row in auth_events.for_username(session, username)]
    assert sorted(events) == ["authn_login_success", "user_created"]


def test_disable_over_rest_needs_password_and_code(client: TestClient, clock: FakeClock) -> None:
    username, token, secret, _ = enrolled(client, clock)

    def disable(password: str, otp: str) -> int:
        body = {"password": password, "code": otp}
        return client.post("/api/auth/2fa/disable", json=body, headers=bearer(token)).status_code

    assert disable("not my password", code(secret, clock)) == 401
    assert client.get("/api/auth/me", headers=bearer(token)).json()["mfa_enabled"] is True
    assert disable(PASSWORD, code(secret, clock)) == 204
    assert client.get("/api/auth/me", headers=bearer(token)).json()["mfa_enabled"] is False
    assert client.post("/api/auth/token", data=token_form(username)).status_code == 200


def test_gradio_client_login_takes_the_code(
    live_server: str, client: TestClient, clock: FakeClock
) -> None:
    username, _, secret, recovery = enrolled(client, clock)
    gradio = Client(live_server, verbose=False)
    try:
        with pytest.raises(Exception, match="two-factor authentication"):
            gradio.predict(username, PASSWORD, api_name="/login")
        with pytest.raises(Exception, match="two-factor code is wrong"):
            gradio.predict(username, PASSWORD, recovery[0][::-1], api_name="/login")
        token = gradio.predict(username, PASSWORD, code(secret, clock), api_name="/login")
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
        token = gradio.predict(username, PASSWORD, recovery[1], api_name="/login")
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    finally:
        gradio.close()


def test_openapi_documents_the_otp_field_and_the_two_factor_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/api/auth/token"]["post"]["requestBody"]["content"]
    ref = body["application/x-www-form-urlencoded"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "otp" in schema["components"]["schemas"][ref]["properties"]
    routes = {"/api/auth/logout-all", "/api/auth/2fa/setup", "/api/auth/2fa/confirm"}
    assert routes | {"/api/auth/2fa/disable"} <= set(schema["paths"])
