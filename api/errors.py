"""Translate errors into the API's one JSON shape: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from errors import (
    AppError,
    AuthError,
    BatchFailed,
    ConfigError,
    Conflict,
    DatabaseUnavailable,
    Gone,
    InvalidInput,
    ModelError,
    NotFound,
    PermissionDenied,
    RateLimited,
)

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[AppError], int] = {
    InvalidInput: 422,
    AuthError: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Gone: 410,
    BatchFailed: 500,
    Conflict: 409,
    RateLimited: 429,
    ConfigError: 500,
    ModelError: 503,
    DatabaseUnavailable: 503,
}

# A lost database is usually back (failover, restart) or known to be down within seconds.
DATABASE_RETRY_AFTER_S = 5

_HTTP_CODES = {401: "not_authenticated", 404: "not_found", 405: "method_not_allowed"}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def status_for(error: AppError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, RateLimited) and exc.retry_after:
        headers = {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, DatabaseUnavailable):
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_S)}
    return error_response(status, exc.code, exc.message, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"] if part not in ("body", "query"))
        problems.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    message = "The request is not valid: " + "; ".join(problems) + "."
    return error_response(422, InvalidInput.code, message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI could not parse the body (not UTF-8, broken form)
        return error_response(
            422,
            InvalidInput.code,
            f"The request body could not be read ({exc.detail}). Send JSON encoded as UTF-8, "
            "or a well-formed multipart form for uploads.",
        )
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        500, "internal_error", "Something went wrong on the server. Try again later."
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


not_found_router = APIRouter(include_in_schema=False)


@not_found_router.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def api_not_found(path: str, request: Request) -> None:
    """Unknown API paths answer in the API's error shape instead of reaching the UI."""
    if any(route.matches(request.scope)[0] == Match.PARTIAL for route in request.app.routes):
        raise HTTPException(405, f"{request.method} is not allowed on /api/{path}.")
    raise NotFound(f"There is no API endpoint at /api/{path}. See /docs for the list.")
