"""The Batch tab's Excel parts: the sheet choice, the description of a workbook, the
download format, and the results preview read from an .xlsx."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

import gradio as gr

from batch.ingest import CsvInfo
from sentiment.xlsxread import Workbook

FORMATS = ["CSV", "Excel (.xlsx)"]


def sheet_dropdown(info: CsvInfo | None) -> Any:
    """The sheet choice: shown only for a workbook with several sheets."""
    if info is None or len(info.sheets) < 2:
        return gr.Dropdown(choices=[], value=None, visible=False)
    return gr.Dropdown(choices=info.sheets, value=info.sheet, visible=True)


def source_text(info: CsvInfo) -> str:
    """Where the rows come from: the sheet of a workbook, or the CSV's encoding and
    delimiter."""
    if info.sheet is not None:
        others = (
            f" (of {len(info.sheets)}: {', '.join(info.sheets)})" if len(info.sheets) > 1 else ""
        )
        return f"Excel workbook, sheet **{info.sheet}**{others}"
    return f"Encoding {info.encoding}, delimiter {info.delimiter_name}"


def suffix_of(choice: str | None) -> str:
    return ".xlsx" if choice == FORMATS[1] else ".csv"


def head_of_xlsx(path: str, rows: int) -> dict[str, Any]:
    """The first `rows` result rows of a results workbook, for the preview table."""
    book = Workbook(Path(path))
    try:
        found = [cells for _number, cells in islice(book.rows(book.sheets[0]), rows + 1)]
    finally:
        book.close()
    return {"headers": found[0], "data": found[1:]}
