"""REST: a done batch's results as an Excel workbook (the CSV's columns, no formulas)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import CurrentAccount, ServicesDep
from api.schemas import ERRORS, ErrorResponse

router = APIRouter(tags=["batch"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorResponse},
    410: {"model": ErrorResponse},
    200: {"content": {XLSX_TYPE: {}}},
}


def attachment(name: str) -> dict[str, str]:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}


@router.get(
    "/api/batch/{batch_id}/results.xlsx", response_class=StreamingResponse, responses=_RESPONSES
)
def batch_results_xlsx(
    batch_id: str, account: CurrentAccount, services: ServicesDep
) -> StreamingResponse:
    """results.csv's columns as an .xlsx; texts are string cells, never formulas."""
    job, blocks = services.batches.results(account.id, batch_id, xlsx=True)
    name = f"{Path(job.filename).stem or 'batch'}-results.xlsx"
    return StreamingResponse(blocks, media_type=XLSX_TYPE, headers=attachment(name))
