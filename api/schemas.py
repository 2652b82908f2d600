"""What every API route shares: the response-model base, the error shape for OpenAPI and
the row-id path parameters."""

from __future__ import annotations

from typing import Annotated, Self

from fastapi import Path
from pydantic import BaseModel, ConfigDict

from storage.models import MAX_BIG_ID, MAX_ID

# Ids in a path: numbers their column can hold (a bigger one would find nothing anyway).
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]  # batches, API tokens
BigRowId = Annotated[int, Path(ge=1, le=MAX_BIG_ID)]  # predictions


class ResponseModel(BaseModel):
    """A response body read off the attributes of the same names of a domain object."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, source: object) -> Self:
        return cls.model_validate(source)


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
