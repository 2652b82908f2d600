"""The History tab: the user's predictions, newest first, keyset-paged, with filters,
delete selected, delete all (confirmed) and CSV or Excel export.

Texts are shown in a plain-text table cell and as checkbox labels, never as HTML.
The paging position (a stack of cursors) lives in a per-session gr.State.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from analysis.history import HistoryPage
from services import Services
from ui import evaluation as evaluation_ui
from ui import filters as filter_ui
from ui.common import LOG_IN_FIRST, current_account, shown_to_user

PAGE_SIZE = 25
COLUMNS = ["id", "when (UTC)", "label", "score", "source", "batch", "text"]
EXPORT_MAX_AGE_S = 3600


def rows_frame(page: HistoryPage) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                row.id,
                row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                row.label,
                round(row.score, 3),
                row.source,
                row.batch_id if row.batch_id is not None else "",
                row.text,
            ]
            for row in page.rows
        ],
        columns=COLUMNS,
    )


def export_path(directory: Path, suffix: str = ".csv") -> Path:
    """A fresh, unguessable file name; exports older than an hour are removed first."""
    directory.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - EXPORT_MAX_AGE_S
    for old in directory.glob("sentiscope-history-*"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return directory / f"sentiscope-history-{secrets.token_urlsafe(16)}{suffix}"


def build(services: Services, session: gr.State) -> None:
    """Render the History tab; `session` holds this browser session's access token."""
    history = services.history
    # Under the temp dir, which Gradio allows serving from wherever DATA_DIR points.
    exports = Path(tempfile.gettempdir()) / "sentiscope-exports"
    with gr.Tab("History", id="history"):
        status = gr.Markdown(LOG_IN_FIRST, elem_id="history-status")
        controls = filter_ui.filter_controls("history")
        with gr.Row():
            refresh = gr.Button("Show", variant="primary", elem_id="history-refresh")
            first = gr.Button("Newest", elem_id="history-first")
            older = gr.Button("Older →", elem_id="history-older")
            export = gr.Button("Export CSV", elem_id="history-export-button")
            export_xlsx = gr.Button("Export Excel", elem_id="history-export-xlsx-button")
        table = gr.Dataframe(
            headers=COLUMNS,
            datatype=["number", "str", "str", "number", "str", "str", "str"],
            interactive=False,
            wrap=True,
            elem_id="history-table",
        )
        selected = gr.CheckboxGroup(
            label="Select rows to delete", choices=[], elem_id="history-selected"
        )
        with gr.Row():
            delete_button = gr.Button("Delete selected", elem_id="history-delete")
            delete_all = gr.Button("Delete all…", variant="stop", elem_id="history-delete-all")
        with gr.Row(visible=False) as confirm_row:
            gr.Markdown("**Delete your whole history?** This cannot be undone.")
            confirm = gr.Button("Yes, delete everything", variant="stop", elem_id="history-confirm")
            cancel = gr.Button("Cancel", elem_id="history-cancel")
        download = gr.File(label="Export", interactive=False, elem_id="history-export")
        cursors = gr.State([])  # cursors of the pages above the one shown ([] = newest)
        next_cursor = gr.State(None)

        def show(token: str | None, stack: list[str | None], request: gr.Request, *values: Any):
            account = current_account(services, token, request)
            with shown_to_user():
                chosen = filter_ui.parse(*values)
                cursor = stack[-1] if stack else None
                page = history.page(account.id, chosen, cursor=cursor, limit=PAGE_SIZE)
                total = history.count(account.id, chosen)
            start = (len(stack)) * PAGE_SIZE
            shown = f"{start + 1}–{start + len(page.rows)}" if page.rows else "none"
            message = f"{total} matching predictions; showing {shown}, newest first."
            if total == 0:
                message = "No predictions match. Analyze a text on the **Analyze** tab."
            with shown_to_user():
                message += evaluation_ui.for_batch(services, account.id, chosen.batch_id)
            return {
                status: message,
                table: rows_frame(page),
                selected: gr.CheckboxGroup(
                    choices=[(f"#{r.id} · {r.text[:60]}", r.id) for r in page.rows], value=[]
                ),
                cursors: stack,
                next_cursor: page.next_cursor,
                older: gr.Button(interactive=page.next_cursor is not None),
            }

        page_outputs = [status, table, selected, cursors, next_cursor, older]
        inputs = controls.inputs()

        def newest(token: str | None, request: gr.Request, *values: Any) -> dict[Any, Any]:
            """The first page for the current filters."""
            return show(token, [], request, *values)

        def go_older(
            token: str | None,
            stack: list[str | None],
            cursor: str | None,
            request: gr.Request,
            *values: Any,
        ) -> dict[Any, Any]:
            """The next (older) page."""
            return show(token, [*stack, cursor] if cursor else stack, request, *values)

        def delete_selected(
            token: str | None, ids: list[int], request: gr.Request, *values: Any
        ) -> dict[Any, Any]:
            """Delete the ticked rows (only ever the caller's own)."""
            account = current_account(services, token, request)
            with shown_to_user():
                removed = history.delete(account.id, [int(i) for i in ids or []])
            result = show(token, [], request, *values)
            result[status] = f"Deleted {removed} predictions. " + result[status]
            return result

        def delete_everything(token: str | None, request: gr.Request, *values: Any):
            """Delete the caller's whole history, after the confirmation step."""
            account = current_account(services, token, request)
            with shown_to_user():
                removed = history.delete_all(account.id)
            result = show(token, [], request, *values)
            result[status] = f"Deleted all {removed} predictions."
            result[confirm_row] = gr.Row(visible=False)
            return result

        def export_csv(token: str | None, request: gr.Request, *values: Any) -> str:
            """Write the filtered rows to a CSV file with an unguessable name."""
            account = current_account(services, token, request)
            with shown_to_user():
                chosen = filter_ui.parse(*values)
            path = export_path(exports)
            with path.open("w", encoding="utf-8", newline="") as handle:
                for chunk in history.export_csv(account.id, chosen):
                    handle.write(chunk)
            return str(path)

        def export_excel(token: str | None, request: gr.Request, *values: Any) -> str:
            """Write the filtered rows to an .xlsx (texts as text, never formulas)."""
            account = current_account(services, token, request)
            with shown_to_user():
                chosen = filter_ui.parse(*values)
            return str(history.export_xlsx(account.id, chosen, export_path(exports, ".xlsx")))

        def cleared(token: str | None) -> dict[Any, Any]:
            """Forget what was shown when the login changes (log out, another user)."""
            return {
                status: LOG_IN_FIRST if token is None else "Press **Show** to load your history.",
                table: rows_frame(HistoryPage([], None)),
                selected: gr.CheckboxGroup(choices=[], value=[]),
                cursors: [],
                next_cursor: None,
                older: gr.Button(interactive=False),
            }

        private: dict[str, Any] = {"api_visibility": "private"}
        gr.on([refresh.click, first.click], newest, [session, *inputs], page_outputs, **private)
        older.click(go_older, [session, cursors, next_cursor, *inputs], page_outputs, **private)
        delete_button.click(delete_selected, [session, selected, *inputs], page_outputs, **private)
        delete_all.click(lambda: gr.Row(visible=True), None, confirm_row, **private)
        cancel.click(lambda: gr.Row(visible=False), None, confirm_row, **private)
        confirm.click(
            delete_everything, [session, *inputs], [*page_outputs, confirm_row], **private
        )
        export.click(export_csv, [session, *inputs], download, **private)
        export_xlsx.click(export_excel, [session, *inputs], download, **private)
        session.change(cleared, session, page_outputs, **private)
