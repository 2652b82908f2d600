"""REST for administrators: the auth event audit trail with the Admin tab's filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from analysis.admin import EVENTS_PAGE_MAX, FILTER_MAX, make_event_filters
from api.deps import CurrentAccount, ServicesDep
from api.schemas import ERRORS, ResponseModel
from storage.models import MAX_ID

router = APIRouter(prefix="/api/admin", tags=["admin"])


# One auth event, read off an `analysis.admin.EventRow`.
class AuthEventOut(ResponseModel):
    id: int
    created_at: datetime
    event: str
    username: str = Field(description="As typed at login (lower-cased, clipped to 64).")
    user_id: int | None
    client_ip: str | None
    user_agent: str | None


class AuthEventPageOut(BaseModel):
    total: int = Field(description="How many events match the filters in all.")
    offset: int
    limit: int
    items: list[AuthEventOut]


@router.get("/auth-events", response_model=AuthEventPageOut, responses=ERRORS)
def auth_events(
    account: CurrentAccount,
    services: ServicesDep,
    event: Annotated[str | None, Query(max_length=FILTER_MAX, description="Exact name.")] = None,
    username: Annotated[str | None, Query(max_length=FILTER_MAX, description="Contains.")] = None,
    client_ip: Annotated[
        str | None, Query(max_length=FILTER_MAX, description="Starts with.")
    ] = None,
    since: Annotated[date | None, Query(description="From this UTC day (inclusive).")] = None,
    until: Annotated[date | None, Query(description="To this UTC day (inclusive).")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=EVENTS_PAGE_MAX)] = 50,
) -> AuthEventPageOut:
    """Auth events, newest first, with the total matching (administrators only: else 403)."""
    filters = make_event_filters(
        event=event, username=username, client_ip=client_ip, since=since, until=until
    )
    page = services.admin.events(account, filters, offset=offset, limit=limit)
    return AuthEventPageOut(
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        items=[AuthEventOut.of(row) for row in page.rows],
    )
