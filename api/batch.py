"""REST routes for batch jobs: submit (202 at once), status and progress, list, cancel,
and the results download (streamed from what is stored)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import CurrentAccount, ServicesDep
from api.schemas import ERRORS, ErrorResponse
from batch.service import BatchService
from errors import CsvFormatError, NotFound

router = APIRouter(tags=["batch"])

_COPY_BLOCK = 1 << 20
_RESPONSES: dict[int | str, dict[str, Any]] = {**ERRORS, 404: {"model": ErrorResponse}}


def save_upload(upload: UploadFile, batches: BatchService) -> Path:
    """Copy the upload to a private file, refusing it as soon as it passes the size limit."""
    folder = batches.upload_dir
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


@router.post("/api/batch", status_code=202, responses={**_RESPONSES, 202: {}})
def create_batch(
    account: CurrentAccount,
    services: ServicesDep,
    file: Annotated[
        UploadFile, File(description="A CSV, TSV or Excel (.xlsx) file with a header row.")
    ],
    text_column: Annotated[str | None, Form(description="Default: detected by name.")] = None,
    label_column: Annotated[
        str | None, Form(description="A column of your own labels: the job is evaluated.")
    ] = None,
    label_map: Annotated[
        str | None,
        Form(
            description='JSON: label value -> class, e.g. {"0": "negative", "1": "positive"}. '
            "Default: suggested for 0/1, -1/0/1, 1-5 stars, pos/neg, positive/negative/neutral."
        ),
    ] = None,
    sheet: Annotated[
        str | None, Form(description="An Excel workbook's sheet. Default: the first.")
    ] = None,
) -> JSONResponse:
    """Check the file and queue it as a batch job: 202 at once; follow `status_url`.

    An unreadable file, one over a limit or an unusable label column or map is refused
    here (422) and nothing is stored. The reply shows the label map in use. The batch
    reaches your history, all of it at once, when its last row is scored.
    """
    batches = services.batches
    path = save_upload(file, batches)
    filename = Path(file.filename or "upload.csv").name
    try:
        job = batches.submit(
            account.id, path, filename, text_column=_given(text_column),
            label_column=_given(label_column), label_map=_given(label_map),
            sheet=_given(sheet),
        )  # fmt: skip
    finally:
        path.unlink(missing_ok=True)
    return JSONResponse(job.to_dict(), status_code=202)


def _given(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


@router.get("/api/batches", responses=_RESPONSES)
def list_batches(
    account: CurrentAccount,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: Annotated[
        datetime | None, Query(description="`next_before` of the previous page.")
    ] = None,
) -> JSONResponse:
    """Your batch jobs, newest first, with status and progress; pass `before` for more."""
    found = services.batches.jobs(account.id, limit=limit + 1, before=before)
    page = found[:limit]
    more = len(found) > limit
    return JSONResponse(
        {
            "items": [job.to_dict() for job in page],
            "next_before": page[-1].created_at.isoformat() if more and page else None,
        }
    )


@router.get("/api/batch/{batch_id}", responses=_RESPONSES)
def batch_status(batch_id: str, account: CurrentAccount, services: ServicesDep) -> JSONResponse:
    """Status and progress of a job (its job id) or of a recorded batch (its number)."""
    return JSONResponse(services.batches.job(account.id, batch_id).to_dict())


@router.post("/api/batch/{job_id}/cancel", status_code=202, responses=_RESPONSES)
def cancel_batch(job_id: str, account: CurrentAccount, services: ServicesDep) -> JSONResponse:
    """Cancel a queued or running job: workers drop it and nothing is saved."""
    if not services.batches.cancel(account.id, job_id):
        raise NotFound(f"You have no running batch {job_id}.")
    return JSONResponse(services.batches.job(account.id, job_id).to_dict(), 202)


@router.get(
    "/api/batch/{batch_id}/results.csv",
    response_class=StreamingResponse,
    responses={**_RESPONSES, 410: {"model": ErrorResponse}, 200: {"content": {"text/csv": {}}}},
)
def batch_results(
    batch_id: str, account: CurrentAccount, services: ServicesDep
) -> StreamingResponse:
    """The input columns plus label, score, per-class probabilities and `truncated`."""
    job, blocks = services.batches.results(account.id, batch_id)
    return _csv_download(job.filename, "results", blocks)


@router.get(
    "/api/batch/{batch_id}/misclassified.csv",
    response_class=StreamingResponse,
    responses={**_RESPONSES, 410: {"model": ErrorResponse}, 200: {"content": {"text/csv": {}}}},
)
def batch_misclassified(
    batch_id: str, account: CurrentAccount, services: ServicesDep
) -> StreamingResponse:
    """The rows whose predicted label differs from your label: input columns plus
    `gold_label`, `predicted_label` and `score` (a batch submitted with label_column)."""
    job, blocks = services.batches.misclassified(account.id, batch_id)
    return _csv_download(job.filename, "misclassified", blocks)


def _csv_download(filename: str, kind: str, blocks: Iterator[bytes]) -> StreamingResponse:
    name = f"{Path(filename).stem or 'batch'}-{kind}.csv"
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return StreamingResponse(
        blocks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
