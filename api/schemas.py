"""The error shape shared by every API route, for OpenAPI, and the row-id path parameter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel

from storage.models import MAX_BIG_ID, MAX_ID

# Ids in a path: numbers their column can hold (a bigger one would find nothing anyway).
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]  # batches, API tokens
BigRowId = Annotated[int, Path(ge=1, le=MAX_BIG_ID)]  # predictions


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
