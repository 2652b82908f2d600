"""Every API error has the same shape: {"error": {"code": str, "message": str}}."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.errors import STATUS_BY_ERROR
from errors import AppError


def assert_error_shape(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/api/auth/me", {}, 401, "invalid_token"),
        ("GET", "/api/no-such-route", {}, 404, "not_found"),
        ("POST", "/api/auth/register", {"json": {"username": "x"}}, 422, "invalid_input"),
        ("POST", "/api/auth/register", {"content": b"{not json"}, 422, "invalid_input"),
        (
            "POST",
            "/api/auth/register",
            {"json": {"username": "a", "password": "long enough"}},
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/auth/token",
            {"data": {"username": "nobody", "password": "x" * 8}},
            401,
            "invalid_credentials",
        ),
        ("POST", "/api/auth/token", {}, 422, "invalid_input"),
        (
            "POST",
            "/api/auth/register",
            {"content": b"\xff", "headers": {"Content-Type": "application/json"}},
            422,
            "invalid_input",
        ),
        ("GET", "/api/auth/register", {}, 405, "method_not_allowed"),
    ],
)
def test_api_errors_share_one_shape(
    client: TestClient, method: str, path: str, kwargs: dict, status: int, code: str
) -> None:
    assert_error_shape(client.request(method, path, **kwargs), status, code)


def test_every_domain_error_has_a_status_and_a_stable_code() -> None:
    def subclasses(cls: type[AppError]) -> set[type[AppError]]:
        return {cls} | {sub for child in cls.__subclasses__() for sub in subclasses(child)}

    codes = set()
    for error in subclasses(AppError) - {AppError}:
        assert any(base in STATUS_BY_ERROR for base in error.__mro__), error
        assert error.code not in codes or error.code == "app_error"
        codes.add(error.code)
