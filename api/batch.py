"""REST routes for CSV batches: upload and score, status and progress, results download."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from api.deps import CurrentAccount, ServicesDep
from api.schemas import ERRORS, ErrorResponse
from batch.service import BatchService, BatchStatus
from errors import CsvFormatError, NotFound
from storage.models import as_row_id

router = APIRouter(prefix="/api/batch", tags=["batch"])

_COPY_BLOCK = 1 << 20
_RESPONSES: dict[int | str, dict[str, Any]] = {**ERRORS, 404: {"model": ErrorResponse}}


def _links(batch_id: int | None, job_id: str) -> dict[str, str | None]:
    return {
        "status_url": f"/api/batch/{batch_id if batch_id is not None else job_id}",
        "download_url": f"/api/batch/{batch_id}/results.csv" if batch_id is not None else None,
    }


def _save_upload(upload: UploadFile, batches: BatchService) -> Path:
    """Copy the upload to a private file, refusing it as soon as it passes the size limit."""
    folder = batches.results_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{secrets.token_hex(12)}"
    size, limit = 0, batches.limits.max_bytes
    with path.open("wb") as out:
        while block := upload.file.read(_COPY_BLOCK):
            size += len(block)
            if size > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise CsvFormatError(
                    f"The file is over the {limit / 1e6:,.0f} MB limit (MAX_UPLOAD_MB). "
                    "Split it into smaller files."
                )
            out.write(block)
    return path


def _status_body(status: BatchStatus) -> dict[str, Any]:
    return {
        "id": status.id,
        "status": status.status,
        "filename": status.filename,
        "progress": {
            "done": status.done,
            "total": status.total,
            "rows_per_s": round(status.rows_per_s, 1),
            "eta_s": None if status.eta_s is None else round(status.eta_s, 1),
        },
        "batch_id": status.batch_id,
        "counts": status.counts,
        "error": status.error,
        **_links(status.batch_id, status.id),
    }


@router.post("", status_code=201, responses={**_RESPONSES, 202: {}})
def create_batch(
    account: CurrentAccount,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="A CSV or TSV file with a header row.")],
    text_column: Annotated[str | None, Form(description="Default: detected by name.")] = None,
    wait: Annotated[bool, Query(description="false: answer 202 at once, poll status_url.")] = True,
) -> JSONResponse:
    """Score every row of a CSV/TSV and record the batch in your history (all or nothing)."""
    batches = services.batches
    path = _save_upload(file, batches)
    filename = Path(file.filename or "upload.csv").name
    column = text_column.strip() if text_column and text_column.strip() else None
    if not wait:
        job = batches.start(account.id, path, filename, text_column=column)
        body = {"job_id": job.id, "status": job.status, **_links(None, job.id)}
        return JSONResponse(body, status_code=202)
    try:
        summary = batches.run(account.id, path, filename, text_column=column)
    finally:
        path.unlink(missing_ok=True)
    return JSONResponse({**summary.to_dict(), **_links(summary.batch_id, summary.job_id)}, 201)


@router.get("/{batch_id}", responses=_RESPONSES)
def batch_status(batch_id: str, account: CurrentAccount, services: ServicesDep) -> JSONResponse:
    """Status and progress of a batch (its id) or of one still running (its job id)."""
    return JSONResponse(_status_body(services.batches.status(account.id, batch_id)))


@router.post("/{job_id}/cancel", status_code=202, responses=_RESPONSES)
def cancel_batch(job_id: str, account: CurrentAccount, services: ServicesDep) -> JSONResponse:
    """Cancel a running batch: it stops after the current chunk and saves nothing."""
    if not services.batches.cancel(account.id, job_id):
        raise NotFound(f"You have no running batch {job_id}.")
    return JSONResponse(_status_body(services.batches.status(account.id, job_id)), 202)


@router.get(
    "/{batch_id}/results.csv",
    response_class=FileResponse,
    responses={**_RESPONSES, 200: {"content": {"text/csv": {}}}},
)
def batch_results(batch_id: str, account: CurrentAccount, services: ServicesDep) -> FileResponse:
    """The input columns plus label, score, per-class probabilities and `truncated`."""
    number = as_row_id(batch_id)
    if number is None:
        raise NotFound(f"You have no batch {batch_id}.")
    path = services.batches.results_file(account.id, number)
    status = services.batches.status(account.id, batch_id)
    name = f"{Path(status.filename).stem or 'batch'}-results.csv"
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=name)
