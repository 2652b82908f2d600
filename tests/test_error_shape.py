"""Every API error has the same shape: {"error": {"code": str, "message": str}}."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.errors import STATUS_BY_ERROR
from errors import AppError
from storage.models import MAX_BIG_ID, as_row_id
from tests.helpers import PASSWORD, api_login, bearer, new_username


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


BEYOND_64_BITS = "9223372036854775808"  # 2**63: SQLite raised OverflowError, a 500
BEYOND_32_BITS = "2147483648"  # 2**31: PostgreSQL's integer columns refused it, a 500


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("DELETE", f"/api/history/{BEYOND_64_BITS}", 422, "invalid_input"),
        ("DELETE", f"/api/history/{BEYOND_32_BITS}", 404, "not_found"),  # a bigint id: fits
        ("DELETE", f"/api/tokens/{BEYOND_64_BITS}", 422, "invalid_input"),
        ("DELETE", f"/api/tokens/{BEYOND_32_BITS}", 422, "invalid_input"),
        ("GET", f"/api/history?batch_id={BEYOND_64_BITS}", 422, "invalid_input"),
        ("GET", f"/api/history?batch_id={BEYOND_32_BITS}", 422, "invalid_input"),
        ("GET", f"/api/history/export.csv?batch_id={BEYOND_32_BITS}", 422, "invalid_input"),
        ("GET", f"/api/insights?batch_id={BEYOND_32_BITS}", 422, "invalid_input"),
        ("GET", f"/api/admin/auth-events?offset={BEYOND_32_BITS}", 422, "invalid_input"),
        ("GET", f"/api/batch/{BEYOND_64_BITS}", 404, "not_found"),
        ("GET", f"/api/batch/{BEYOND_32_BITS}", 404, "not_found"),
        ("GET", f"/api/batch/{BEYOND_32_BITS}/results.csv", 404, "not_found"),
        ("GET", f"/api/batch/{BEYOND_32_BITS}/results.xlsx", 404, "not_found"),
        ("GET", f"/api/history/export.xlsx?batch_id={BEYOND_32_BITS}", 422, "invalid_input"),
        ("GET", "/api/batch/%C2%B2", 404, "not_found"),  # '²': isdigit() but not int()
        ("GET", "/api/batch/%C2%B2/results.csv", 404, "not_found"),
        ("POST", f"/api/batch/{BEYOND_64_BITS}/cancel", 404, "not_found"),
    ],
)
def test_ids_beyond_what_the_database_holds_are_refused_not_crashed_on(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    """Found by the API fuzzer: DELETE /api/history/<2**63> (SQLite) and
    DELETE /api/tokens/<2**31> (PostgreSQL) answered 500."""
    username = new_username()
    client.post("/api/auth/register", json={"username": username, "password": PASSWORD})
    token = api_login(client, username)
    assert_error_shape(client.request(method, path, headers=bearer(token)), status, code)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        ("42", 42),
        (" 7 ", 7),
        (3.0, 3),
        (2**31 - 1, 2**31 - 1),
        (2**31, None),
        (BEYOND_64_BITS, None),
        (0, None),
        (-1, None),
        ("-1", None),
        ("²", None),
        ("١٢", None),  # Arabic-Indic digits
        (1.5, None),
        (float("inf"), None),
        (float("nan"), None),
        (True, None),
        (None, None),
        ("", None),
    ],
)
def test_as_row_id(value: object, expected: int | None) -> None:
    assert as_row_id(value) == expected


def test_as_row_id_for_bigint_keys() -> None:
    assert as_row_id(2**31, MAX_BIG_ID) == 2**31
    assert as_row_id(str(MAX_BIG_ID), MAX_BIG_ID) == MAX_BIG_ID
    assert as_row_id(BEYOND_64_BITS, MAX_BIG_ID) is None
