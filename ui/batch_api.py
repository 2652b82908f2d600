"""The Batch tab's gradio_client endpoints: `/batch` (submit and wait), `/batch_submit`,
`/batch_status` and `/batches`. They take the same options as the REST API; the label
options and the sheet come last, with defaults, so existing callers keep working."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.data_classes import FileData
from gradio.processing_utils import get_upload_folder
from gradio.utils import is_in_or_equal

from batch.jobs import JobView
from services import Services
from ui.common import current_account, shown_to_user


def private_copy(
    services: Services,
    user_id: int,
    job: JobView,
    suffix: str = ".csv",
    *,
    misclassified: bool = False,
) -> str:
    """The results file (.csv or .xlsx; or the misclassified rows, CSV) under an
    unguessable name in Gradio's cache, which serves it."""
    folder = Path(get_upload_folder()) / f"batch-{secrets.token_urlsafe(16)}"
    folder.mkdir(parents=True)
    stem = Path(job.filename).stem or "batch"
    kind = "misclassified" if misclassified else "results"
    suffix = ".csv" if misclassified else suffix
    target = folder / f"{stem}-{kind}-{secrets.token_urlsafe(16)}{suffix}"
    return str(services.batches.save_results(user_id, job.id, target, misclassified=misclassified))


def register(services: Services) -> None:
    """Add the endpoints (call inside the Batch tab: a Tabs may only hold tabs)."""
    batches = services.batches

    def batch(
        file: FileData,
        text_column: str = "",
        token: str = "",
        label_column: str = "",
        label_map: str = "",
        sheet: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[dict[str, Any], FileData]:
        """Score a CSV/TSV/.xlsx (gradio_client's handle_file) and wait until it is saved;
        `sheet` chooses a workbook's sheet (default: the first).

        Returns the job (counts, empty rows, batch_id, download_url, evaluation when
        `label_column` names your labels) and the results.
        """
        account = current_account(services, token, request)
        path, name = uploaded_file(file)
        with shown_to_user():
            done = batches.run(
                account.id, path, name, text_column=text_column.strip() or None,
                label_column=label_column.strip() or None,
                label_map=label_map.strip() or None, sheet=sheet.strip() or None,
            )  # fmt: skip
            copy = private_copy(services, account.id, done)
        return done.to_dict(), FileData(path=copy)

    def batch_submit(
        file: FileData,
        text_column: str = "",
        token: str = "",
        label_column: str = "",
        label_map: str = "",
        sheet: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Queue a CSV/TSV/.xlsx as a batch job and return at once (with the label map in
        use); follow /batch_status."""
        account = current_account(services, token, request)
        path, name = uploaded_file(file)
        with shown_to_user():
            job = batches.submit(
                account.id, path, name, text_column=text_column.strip() or None,
                label_column=label_column.strip() or None,
                label_map=label_map.strip() or None, sheet=sheet.strip() or None,
            )  # fmt: skip
        return job.to_dict()

    def batch_status(
        job_id: str,
        token: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Status, progress and (when done) counts, evaluation and download_url of a job."""
        account = current_account(services, token, request)
        with shown_to_user():
            return batches.job(account.id, job_id.strip()).to_dict()

    def batch_list(
        token: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> list[dict[str, Any]]:
        """Your recent batch jobs, newest first."""
        account = current_account(services, token, request)
        with shown_to_user():
            return [job.to_dict() for job in batches.jobs(account.id, limit=50)]

    # inside the Tab: a Tabs may only hold tabs
    gr.api(batch, api_name="batch", concurrency_limit=None)
    gr.api(batch_submit, api_name="batch_submit")
    gr.api(batch_status, api_name="batch_status", concurrency_limit=None)
    gr.api(batch_list, api_name="batches")


def uploaded_file(file: FileData | dict[str, Any]) -> tuple[str, str]:
    """(path, original name) of a file the client uploaded; nothing else on disk is read."""
    data = file.model_dump() if isinstance(file, FileData) else dict(file)
    path = str(data.get("path") or "")
    if not path or not is_in_or_equal(path, get_upload_folder()):
        raise gr.Error("Send the CSV as an uploaded file (gradio_client's handle_file).")
    return path, Path(str(data.get("orig_name") or Path(path).name)).name
