"""The Batch tab: upload a CSV/TSV/.xlsx, check the preview and text column, submit it as a job
and follow its progress (read from the job, so a refresh or another replica shows the
same); the user's recent jobs with their status and downloads.

Also registers the gradio_client endpoints `/batch` (submit and wait), `/batch_submit`,
`/batch_status` and `/batches`.
"""

from __future__ import annotations

import csv
import secrets
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.data_classes import FileData
from gradio.processing_utils import get_upload_folder
from gradio.utils import is_in_or_equal

from batch.export import ENCODING, unsanitize
from batch.jobs import JobView
from errors import AppError
from services import Services
from ui import batch_excel as excel
from ui.common import current_account, shown_to_user

HELP = (
    "Upload a CSV, TSV or Excel workbook (.xlsx) with a header row (`,` `;` tab or `|`; a "
    "workbook with several sheets lets you choose one). Check the preview and the text "
    "column, then press **Score**: the file becomes a batch job that keeps running if you "
    "close the page. It is saved to your history only when every row is scored; **Cancel** "
    "saves nothing."
)
RESULT_PREVIEW_ROWS = 20
POLL_S = 0.5
JOB_COLUMNS = ["job", "file", "status", "progress", "batch", "created (UTC)"]
CANCELLED = "The batch was cancelled; nothing was saved."


def _describe(info: Any) -> str:
    empty = f"; {info.empty_rows:,} with empty text will be skipped" if info.empty_rows else ""
    cut = f"; {info.truncated_rows:,} long texts will be truncated" if info.truncated_rows else ""
    return (
        f"**{info.rows:,} rows**{empty}{cut}. {excel.source_text(info)}, columns: "
        f"{', '.join(info.columns)}."
    )


def summary_text(job: JobView) -> str:
    counts = ", ".join(f"{label} {n:,}" for label, n in (job.counts or {}).items())
    scored = sum((job.counts or {}).values())
    lines = [
        f"**Batch {job.batch_id}: {scored:,} rows scored** in "
        f"{job.progress.elapsed_s:,.1f} s ({counts}); mean confidence "
        f"{job.mean_confidence or 0:.0%}.",
    ]
    empty_rows = job.details.get("empty_rows") or 0
    if empty_rows:
        shown = job.details.get("empty_lines") or []
        more = " ..." if empty_rows > len(shown) else ""
        where = "rows" if job.details.get("format") == "xlsx" else "lines"  # Excel's rows
        lines.append(f"{empty_rows:,} rows with empty text skipped ({where} "
                     f"{', '.join(map(str, shown))}{more}).")  # fmt: skip
    if job.truncated:
        lines.append(f"{job.truncated:,} texts were truncated for the model.")
    return "\n\n".join(lines)


def status_line(job: JobView) -> str:
    if job.status == "queued":
        return (
            f"Queued: job {job.id}, {job.progress.done:,} / {job.progress.total:,} rows; "
            "waiting for a worker."
        )
    if job.status == "running":
        return f"Scoring job {job.id}: {job.progress.describe()}"
    if job.status == "done":
        return f"Done: batch {job.batch_id} is in your history."
    if job.status == "cancelled":
        return CANCELLED
    return f"Failed: {job.error or 'nothing was saved.'}"


def private_copy(services: Services, user_id: int, job: JobView, suffix: str = ".csv") -> str:
    """The results file under an unguessable name in Gradio's cache, which serves it."""
    folder = Path(get_upload_folder()) / f"batch-{secrets.token_urlsafe(16)}"
    folder.mkdir(parents=True)
    stem = Path(job.filename).stem or "batch"
    target = folder / f"{stem}-results-{secrets.token_urlsafe(16)}{suffix}"
    return str(services.batches.save_results(user_id, job.id, target))


def head_of(path: str, rows: int) -> dict[str, Any]:
    if path.endswith(".xlsx"):
        return excel.head_of_xlsx(path, rows)
    with open(path, encoding=ENCODING, newline="") as f:
        found = [[unsanitize(cell) for cell in row] for row in islice(csv.reader(f), rows + 1)]
    return {"headers": found[0], "data": found[1:]}


def jobs_table(jobs: list[JobView]) -> dict[str, Any]:
    data = [
        [job.id, job.filename, job.status, f"{job.progress.done:,} / {job.progress.total:,}",
         job.batch_id or "", job.created_at.strftime("%Y-%m-%d %H:%M:%S")]
        for job in jobs
    ]  # fmt: skip
    return {"headers": JOB_COLUMNS, "data": data}


def build(services: Services, session: gr.State) -> None:
    """Render the Batch tab; `session` holds this browser session's access token."""
    batches = services.batches
    with gr.Tab("Batch", id="batch"):
        gr.Markdown(HELP)
        upload = gr.File(
            label="CSV, TSV or Excel file",
            file_types=[".csv", ".tsv", ".txt", ".xlsx"],
            type="filepath",
            elem_id="batch-file",
        )
        info = gr.Markdown(elem_id="batch-info")
        sheet = gr.Dropdown(
            label="Sheet", choices=[], visible=False, interactive=True, elem_id="batch-sheet"
        )
        column = gr.Dropdown(
            label="Text column", choices=[], interactive=True, elem_id="batch-column"
        )
        preview = gr.Dataframe(label="Preview", interactive=False, elem_id="batch-preview")
        with gr.Row():
            run = gr.Button("Score", variant="primary", elem_id="batch-run")
            cancel = gr.Button("Cancel", variant="stop", elem_id="batch-cancel")
        status = gr.Textbox(label="Status", interactive=False, elem_id="batch-status")
        moving = gr.Markdown(elem_id="batch-progress")  # rows done, rate, time left
        summary = gr.Markdown(elem_id="batch-summary")
        results = gr.Dataframe(label="Results", interactive=False, elem_id="batch-results")
        fmt = gr.Radio(excel.FORMATS, value=excel.FORMATS[0], label="Download as",
                       elem_id="batch-format")  # fmt: skip
        download = gr.File(label="Download results", interactive=False, elem_id="batch-download")
        with gr.Accordion("Your batches", open=True):
            jobs = gr.Dataframe(
                headers=JOB_COLUMNS, interactive=False, elem_id="batch-jobs", wrap=True
            )
            with gr.Row():
                chosen = gr.Textbox(label="Job id", elem_id="batch-job-id", scale=3)
                fetch = gr.Button("Download this job's results", elem_id="batch-job-download")
            refresh = gr.Timer(2.0)

        def inspect(
            path: str | None, chosen_sheet: str | None, token: str | None, request: gr.Request
        ) -> dict[Any, Any]:
            """Show the file's preview, sheets and detected text column."""
            if not path:
                return {info: "", column: gr.Dropdown(choices=[], value=None), preview: None,
                        sheet: excel.sheet_dropdown(None)}  # fmt: skip
            current_account(services, token, request)
            with shown_to_user():
                found = batches.inspect(path, sheet=chosen_sheet or None)
            return {
                info: _describe(found),
                sheet: excel.sheet_dropdown(found),
                column: gr.Dropdown(choices=found.columns, value=found.text_column),
                preview: {
                    "headers": found.columns,
                    "data": [[row[c] for c in found.columns] for row in found.preview],
                },
            }

        def score(
            path: str | None,
            text_column: str | None,
            chosen_sheet: str | None,
            chosen_format: str | None,
            token: str | None,
            request: gr.Request,
        ) -> Iterator[dict[Any, Any]]:
            """Submit the file as a job, then follow it until it ends."""
            account = current_account(services, token, request)
            if not path:
                raise gr.Error("Upload a CSV, TSV or Excel file first.")
            with shown_to_user():
                job = batches.submit(
                    account.id, path, Path(path).name, text_column=text_column or None,
                    sheet=chosen_sheet or None,
                )  # fmt: skip
            cleared = {summary: "", results: None, download: None}
            yield {status: status_line(job), moving: job.progress.describe(), **cleared}
            while not job.finished:
                time.sleep(POLL_S)
                with shown_to_user():
                    job = batches.job(account.id, job.id)
                yield {status: status_line(job), moving: job.progress.describe()}
            if job.status != "done":
                yield {status: status_line(job), moving: "", **cleared}
                return
            with shown_to_user():
                copy = private_copy(services, account.id, job, excel.suffix_of(chosen_format))
            yield {
                status: status_line(job),
                moving: job.progress.describe(),
                summary: summary_text(job),
                results: head_of(copy, RESULT_PREVIEW_ROWS),
                download: copy,
            }

        def stop(token: str | None, request: gr.Request) -> str:
            """Cancel this user's queued or running batches."""
            account = current_account(services, token, request)
            with shown_to_user():
                if batches.cancel(account.id):
                    return CANCELLED
            return "No batch is running."

        def list_jobs(token: str | None, request: gr.Request) -> Any:
            """The user's recent jobs (quietly nothing when logged out)."""
            try:
                account = services.accounts.authenticate(token or None)
                return jobs_table(batches.jobs(account.id, limit=20))
            except AppError:
                return gr.skip()

        def fetch_job(
            job_id: str, chosen_format: str | None, token: str | None, request: gr.Request
        ) -> str:
            """A copy of a done job's results for the browser to download."""
            account = current_account(services, token, request)
            with shown_to_user():
                job = batches.job(account.id, job_id.strip())
                return private_copy(services, account.id, job, excel.suffix_of(chosen_format))

        described = [info, column, preview, sheet]

        def inspect_new(path: str | None, token: str | None, request: gr.Request) -> Any:
            """A new file: its first sheet."""
            return inspect(path, None, token, request)

        upload.change(inspect_new, [upload, session], described, api_visibility="private")
        sheet.input(inspect, [upload, sheet, session], described, api_visibility="private")
        run.click(
            score, [upload, column, sheet, fmt, session],
            [status, moving, summary, results, download],
            api_visibility="private", concurrency_limit=None,
        )  # fmt: skip
        cancel.click(stop, [session], status, api_visibility="private", concurrency_limit=None)
        refresh.tick(list_jobs, [session], jobs, api_visibility="private", show_progress="hidden")
        fetch.click(fetch_job, [chosen, fmt, session], download, api_visibility="private")

        def batch(
            file: FileData,
            text_column: str = "",
            token: str = "",
            sheet: str = "",
            request: gr.Request = None,  # type: ignore[assignment]
        ) -> tuple[dict[str, Any], FileData]:
            """Score a CSV/TSV/.xlsx (gradio_client's handle_file) and wait until it is saved;
            `sheet` chooses a workbook's sheet (default: the first).

            Returns the job (counts, empty rows, batch_id, download_url) and the results.
            """
            account = current_account(services, token, request)
            path, name = uploaded_file(file)
            with shown_to_user():
                done = batches.run(account.id, path, name, text_column=text_column.strip() or None,
                                   sheet=sheet.strip() or None)  # fmt: skip
                copy = private_copy(services, account.id, done)
            return done.to_dict(), FileData(path=copy)

        def batch_submit(
            file: FileData,
            text_column: str = "",
            token: str = "",
            sheet: str = "",
            request: gr.Request = None,  # type: ignore[assignment]
        ) -> dict[str, Any]:
            """Queue a CSV/TSV/.xlsx as a batch job and return at once; follow /batch_status."""
            account = current_account(services, token, request)
            path, name = uploaded_file(file)
            with shown_to_user():
                job = batches.submit(account.id, path, name, sheet=sheet.strip() or None,
                                     text_column=text_column.strip() or None)  # fmt: skip
            return job.to_dict()

        def batch_status(
            job_id: str,
            token: str = "",
            request: gr.Request = None,  # type: ignore[assignment]
        ) -> dict[str, Any]:
            """Status, progress and (when done) counts and download_url of a job."""
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
