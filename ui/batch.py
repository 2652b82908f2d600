"""The Batch tab: upload a CSV/TSV/.xlsx, check the preview and text column, submit it as a job
and follow its progress (read from the job, so a refresh or another replica shows the
same); with a label column, its evaluation (ui/evaluation.py); the user's recent jobs
with their status and downloads.

Also registers the gradio_client endpoints (ui/batch_api.py).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import gradio as gr

from batch.export import ENCODING, unsanitize
from batch.jobs import JobView
from errors import AppError
from services import Services
from ui import batch_api
from ui import batch_excel as excel
from ui import evaluation as evaluation_ui
from ui.batch_api import private_copy
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
    foreign = job.details.get("unsupported_language") or 0
    if foreign:
        done = "left unscored" if job.details.get("language_policy") == "skip" else "scored"
        lines.append(f"{foreign:,} rows look like another language than the model reads "
                     f"({done}; see the language column).")  # fmt: skip
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
        labels = evaluation_ui.label_controls()
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
        figures = evaluation_ui.figures()
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
                        sheet: excel.sheet_dropdown(None),
                        **evaluation_ui.on_upload(services, "", None, labels)}  # fmt: skip
            current_account(services, token, request)
            with shown_to_user():
                found = batches.inspect(path, sheet=chosen_sheet or None)
            return {
                **evaluation_ui.on_upload(services, path, found, labels),
                info: _describe(found),
                sheet: excel.sheet_dropdown(found),
                column: gr.Dropdown(choices=found.columns, value=found.text_column),
                preview: {
                    "headers": found.columns,
                    "data": [[row[c] for c in found.columns] for row in found.preview],
                },
            }

        def suggest(
            path: str | None,
            text_column: str | None,
            label_column: str | None,
            chosen_sheet: str | None,
            token: str | None,
            request: gr.Request,
        ) -> dict[Any, Any]:
            """The suggested map for the label column just chosen."""
            current_account(services, token, request)
            if not path:
                return {labels.label_map: "", labels.info: ""}
            with shown_to_user():
                found = batches.inspect(path, text_column or None, chosen_sheet or None)
            label_map, told = evaluation_ui.suggestion(services, path, found, label_column)
            return {labels.label_map: label_map, labels.info: told}

        def score(
            path: str | None,
            text_column: str | None,
            label_column: str | None,
            label_map: str | None,
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
                    label_column=evaluation_ui.chosen(label_column),
                    label_map=(label_map or None) if evaluation_ui.chosen(label_column) else None,
                    sheet=chosen_sheet or None,
                )  # fmt: skip
            cleared = {summary: "", results: None, download: None, **figures.cleared()}
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
                wrong = job.evaluation and private_copy(
                    services, account.id, job, misclassified=True
                )
            yield {
                status: status_line(job),
                moving: job.progress.describe(),
                summary: summary_text(job),
                results: head_of(copy, RESULT_PREVIEW_ROWS),
                download: copy,
                **evaluation_ui.on_done(figures, job, Path(wrong) if wrong else None),
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

        label_outputs = [labels.column, labels.label_map, labels.info]
        described = [info, column, preview, sheet, *label_outputs]

        def inspect_new(path: str | None, token: str | None, request: gr.Request) -> Any:
            """A new file: its first sheet."""
            return inspect(path, None, token, request)

        upload.change(inspect_new, [upload, session], described, api_visibility="private")
        sheet.input(inspect, [upload, sheet, session], described, api_visibility="private")
        labels.column.input(
            suggest, [upload, column, labels.column, sheet, session], label_outputs[1:],
            api_visibility="private",
        )  # fmt: skip
        run.click(
            score, [upload, column, labels.column, labels.label_map, sheet, fmt, session],
            [status, moving, summary, results, download, figures.text, figures.plot,
             figures.download],
            api_visibility="private", concurrency_limit=None,
        )  # fmt: skip
        cancel.click(stop, [session], status, api_visibility="private", concurrency_limit=None)
        refresh.tick(list_jobs, [session], jobs, api_visibility="private", show_progress="hidden")
        fetch.click(fetch_job, [chosen, fmt, session], download, api_visibility="private")

        # inside the Tab: a Tabs may only hold tabs
        batch_api.register(services)
