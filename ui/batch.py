"""The Batch tab: upload a CSV/TSV, check the preview and text column, score with progress.

Also registers the gradio_client endpoint `/batch` (file, text column, token).
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.data_classes import FileData
from gradio.processing_utils import get_upload_folder
from gradio.utils import is_in_or_equal

from batch.export import read_results
from batch.service import BatchSummary, Progress
from errors import BatchCancelled
from services import Services
from ui.common import current_account, shown_to_user

HELP = (
    "Upload a CSV or TSV with a header row (Excel's *CSV UTF-8* or plain CSV; `,` `;` tab "
    "or `|`). Check the preview and the text column, then press **Score**. The batch is "
    "saved to your history only when every row is scored; **Cancel** saves nothing."
)
RESULT_PREVIEW_ROWS = 20


def _describe(info: Any) -> str:
    empty = f"; {info.empty_rows:,} with empty text will be skipped" if info.empty_rows else ""
    cut = f"; {info.truncated_rows:,} long texts will be truncated" if info.truncated_rows else ""
    return (
        f"**{info.rows:,} rows**{empty}{cut}. Encoding {info.encoding}, delimiter "
        f"{info.delimiter_name}, columns: {', '.join(info.columns)}."
    )


def _summary_text(summary: BatchSummary) -> str:
    counts = ", ".join(f"{label} {n:,}" for label, n in summary.counts.items())
    lines = [
        f"**Batch {summary.batch_id}: {summary.scored:,} rows scored** in "
        f"{summary.elapsed_s:,.1f} s ({counts}); mean confidence "
        f"{summary.mean_confidence:.0%}.",
    ]
    if summary.empty_rows:
        where = ", ".join(map(str, summary.empty_lines))
        more = " ..." if summary.empty_rows > len(summary.empty_lines) else ""
        lines.append(f"{summary.empty_rows:,} rows with empty text skipped (lines {where}{more}).")
    if summary.truncated:
        lines.append(f"{summary.truncated:,} texts were truncated for the model.")
    return "\n\n".join(lines)


def private_copy(summary: BatchSummary) -> str:
    """A copy of the results under an unguessable name in Gradio's cache, which serves it."""
    folder = Path(get_upload_folder()) / f"batch-{secrets.token_urlsafe(16)}"
    folder.mkdir(parents=True)
    stem = Path(summary.filename).stem or "batch"
    target = folder / f"{stem}-results-{secrets.token_urlsafe(16)}.csv"
    shutil.copyfile(summary.results_path, target)
    return str(target)


def build(services: Services, session: gr.State) -> None:
    """Render the Batch tab; `session` holds this browser session's access token."""
    with gr.Tab("Batch", id="batch"):
        gr.Markdown(HELP)
        upload = gr.File(
            label="CSV or TSV file",
            file_types=[".csv", ".tsv", ".txt"],
            type="filepath",
            elem_id="batch-file",
        )
        info = gr.Markdown(elem_id="batch-info")
        column = gr.Dropdown(
            label="Text column", choices=[], interactive=True, elem_id="batch-column"
        )
        preview = gr.Dataframe(label="Preview", interactive=False, elem_id="batch-preview")
        with gr.Row():
            run = gr.Button("Score", variant="primary", elem_id="batch-run")
            cancel = gr.Button("Cancel", variant="stop", elem_id="batch-cancel")
        status = gr.Textbox(label="Status", interactive=False, elem_id="batch-status")
        summary = gr.Markdown(elem_id="batch-summary")
        results = gr.Dataframe(label="Results", interactive=False, elem_id="batch-results")
        download = gr.File(label="Download results", interactive=False, elem_id="batch-download")

        def inspect(path: str | None, token: str | None, request: gr.Request) -> dict[Any, Any]:
            """Show the file's preview and detected text column."""
            if not path:
                return {info: "", column: gr.Dropdown(choices=[], value=None), preview: None}
            current_account(services, token, request)
            with shown_to_user():
                found = services.batches.inspect(path)
            return {
                info: _describe(found),
                column: gr.Dropdown(choices=found.columns, value=found.text_column),
                preview: {
                    "headers": found.columns,
                    "data": [[row[c] for c in found.columns] for row in found.preview],
                },
            }

        def score(
            path: str | None,
            text_column: str | None,
            token: str | None,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's injection idiom
        ) -> dict[Any, Any]:
            """Score every row with a live progress bar; cancel saves nothing."""
            account = current_account(services, token, request)
            if not path:
                raise gr.Error("Upload a CSV or TSV file first.")

            def report(p: Progress) -> None:
                progress((p.done, p.total), desc=p.describe(), unit="rows")

            with shown_to_user():
                try:
                    done = services.batches.run(
                        account.id,
                        path,
                        Path(path).name,
                        text_column=text_column or None,
                        on_progress=report,
                    )
                except BatchCancelled as exc:  # caught here, before shown_to_user makes it an error
                    return {status: exc.message, summary: "", results: None, download: None}
            header, rows = read_results(done.results_path)
            return {
                status: f"Done: batch {done.batch_id} is in your history.",
                summary: _summary_text(done),
                results: {"headers": header, "data": rows[:RESULT_PREVIEW_ROWS]},
                download: private_copy(done),
            }

        def stop(token: str | None, request: gr.Request) -> str:
            """Cancel this user's running batch."""
            account = current_account(services, token, request)
            if services.batches.cancel(account.id):
                return "Cancelling: the batch stops after the current chunk and saves nothing."
            return "No batch is running."

        upload.change(inspect, [upload, session], [info, column, preview], api_visibility="private")
        run.click(
            score,
            [upload, column, session],
            [status, summary, results, download],
            api_visibility="private",
            concurrency_limit=2,  # batches are CPU-bound; more would only slow each other
        )
        cancel.click(stop, [session], status, api_visibility="private", concurrency_limit=None)

        def batch(
            file: FileData,
            text_column: str = "",
            token: str = "",
            request: gr.Request = None,  # type: ignore[assignment]
        ) -> tuple[dict[str, Any], FileData]:
            """Score a CSV/TSV (gradio_client's handle_file) and save it as a batch.

            Returns the summary (counts, empty rows, batch_id, download_url) and the results.
            """
            account = current_account(services, token, request)
            path, name = uploaded_file(file)
            with shown_to_user():
                done = services.batches.run(
                    account.id, path, name, text_column=text_column.strip() or None
                )
            summary = {**done.to_dict(), "download_url": f"/api/batch/{done.batch_id}/results.csv"}
            return summary, FileData(path=private_copy(done))

        gr.api(batch, api_name="batch")  # inside the Tab: a Tabs may only hold tabs


def uploaded_file(file: FileData | dict[str, Any]) -> tuple[str, str]:
    """(path, original name) of a file the client uploaded; nothing else on disk is read."""
    data = file.model_dump() if isinstance(file, FileData) else dict(file)
    path = str(data.get("path") or "")
    if not path or not is_in_or_equal(path, get_upload_folder()):
        raise gr.Error("Send the CSV as an uploaded file (gradio_client's handle_file).")
    return path, Path(str(data.get("orig_name") or Path(path).name)).name
