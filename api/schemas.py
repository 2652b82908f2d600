"""The error shape shared by every API route, for OpenAPI."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse},
    403: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}

# Routes that check a password count failures and answer 429 (with Retry-After) past the
# limits in auth/throttle.py.
THROTTLED: dict[int | str, dict[str, object]] = {
    **ERRORS,
    429: {"model": ErrorResponse, "description": "Too many failed attempts; see Retry-After."},
}
