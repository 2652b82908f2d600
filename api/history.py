"""REST: the caller's history (filters, cursor paging), delete one row, export CSV/.xlsx."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from analysis.filters import make_filters
from analysis.history import PAGE_MAX
from api.batch_xlsx import XLSX_TYPE, attachment
from api.deps import CurrentAccount, ServicesDep, TokenDep
from api.predict import Probabilities
from api.schemas import ERRORS, BigRowId, ErrorResponse, ResponseModel
from errors import NotFound
from storage.models import MAX_ID
from storage.predictions import HistoryFilters

router = APIRouter(prefix="/api/history", tags=["history"])


async def history_filters(  # pure: no worker-thread hop (api/deps.py)
    label: Annotated[Literal["negative", "neutral", "positive"] | None, Query()] = None,
    source: Annotated[Literal["single", "batch", "api"] | None, Query()] = None,
    batch_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only rows of this batch.")
    ] = None,
    since: Annotated[date | None, Query(description="From this UTC day (inclusive).")] = None,
    until: Annotated[date | None, Query(description="To this UTC day (inclusive).")] = None,
    search: Annotated[
        str | None, Query(max_length=200, description="Case-insensitive text search.")
    ] = None,
) -> HistoryFilters:
    return make_filters(
        label=label, source=source, batch_id=batch_id, since=since, until=until, search=search
    )


Filters = Annotated[HistoryFilters, Depends(history_filters)]


# One history row, read off an `analysis.history.HistoryRow`.
class HistoryItem(ResponseModel):
    id: int
    created_at: datetime
    text: str
    label: str
    score: float
    probabilities: Probabilities
    source: str
    batch_id: int | None
    model: str


class HistoryPageOut(BaseModel):
    items: list[HistoryItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


@router.get("", response_model=HistoryPageOut, responses=ERRORS)
def history(
    token: TokenDep,
    services: ServicesDep,
    filters: Filters,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
) -> HistoryPageOut:
    """Your predictions, newest first, `limit` at a time (keyset paging with `cursor`)."""
    # The token is checked here rather than by `CurrentAccount` so that the check and the
    # page share one connection (one ping, one worker thread): the page users wait on.
    # A GET has no body to protect; malformed query parameters answer 422 before it.
    with services.db.shared_reads():
        account = services.accounts.authenticate(token)
        page = services.history.page(account.id, filters, cursor=cursor, limit=limit)
    return HistoryPageOut(
        items=[HistoryItem.of(row) for row in page.rows], next_cursor=page.next_cursor
    )


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **ERRORS},
)
def export_csv(account: CurrentAccount, services: ServicesDep, filters: Filters) -> Response:
    """Every prediction matching the filters, as CSV (newest first)."""
    name = f"sentiscope-history-{secrets.token_hex(4)}.csv"
    return StreamingResponse(
        services.history.export_csv(account.id, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/export.xlsx",
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX_TYPE: {}}}, **ERRORS},
)
def export_xlsx(account: CurrentAccount, services: ServicesDep, filters: Filters) -> Response:
    """Every prediction matching the filters, as an Excel workbook (export.csv's columns)."""
    folder = Path(tempfile.mkdtemp(prefix="sentiscope-export-"))
    try:
        path = services.history.export_xlsx(account.id, filters, folder / "history.xlsx")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"sentiscope-history-{secrets.token_hex(4)}.xlsx"
    return StreamingResponse(
        _sent_then_removed(path), media_type=XLSX_TYPE, headers=attachment(name)
    )


def _sent_then_removed(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 16):
                yield block
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


@router.delete(
    "/{prediction_id}",
    status_code=204,
    response_class=Response,
    responses={404: {"model": ErrorResponse}, **ERRORS},
)
def delete_one(prediction_id: BigRowId, account: CurrentAccount, services: ServicesDep) -> Response:
    """Delete one of your predictions."""
    if not services.history.delete(account.id, [prediction_id]):
        raise NotFound(f"You have no prediction with id {prediction_id}.")
    return Response(status_code=204)
