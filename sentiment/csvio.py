"""Read the tables the command line scores and evaluates: CSV/TSV/.xlsx, and SST trees."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from errors import CsvFormatError, InvalidInput
from sentiment import columns as shared
from sentiment.tabular import inspect, iter_rows


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[dict[str, str]]
    delimiter: str  # "" for a workbook


def read_table(
    path: Path | str, *, text_column: str | None = None, sheet: str | None = None
) -> Table:
    """Rows of a CSV, TSV or .xlsx file with a header row, read by the uploads' reader
    (sentiment.tabular) without upload limits; quoted fields may span lines.

    Like an upload, a table without a text column (or without the chosen one) is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"No such file: {path}.")
    try:
        info = inspect(path, sheet=sheet, text_column=text_column)
    except CsvFormatError as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None
    rows = [dict(zip(info.columns, row.cells, strict=True)) for row in iter_rows(path, info)]
    return Table(info.columns, rows, info.delimiter)


def find_column(table: Table, name: str) -> str:
    """The column called ``name`` (case-insensitive); InvalidInput listing the columns."""
    return shared.choose_column(table.columns, name)


def detect_text_column(table: Table) -> str:
    """The column that holds the texts: the uploads' guess (a known name, else the longest
    texts); columns of mostly numbers are never chosen, and without any InvalidInput names
    them."""
    sample = [[row.get(c) or "" for c in table.columns] for row in table.rows[:1000]]
    try:
        return shared.detect_text_column(table.columns, sample)
    except CsvFormatError as exc:
        raise InvalidInput(exc.message + " Or name one with --text-column.") from None


def read_sst_trees(path: Path | str) -> Table:
    """Stanford Sentiment Treebank PTB trees -> sentence + root label folded to 3 classes."""
    from sentiment import data  # the same reader training uses

    path = Path(path)
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    first = next((line for line in lines if line), "")
    if not re.match(r"\(\d ", first):
        raise InvalidInput(f"{path} is not an SST tree file (line: {first[:40]!r}).")
    rows = [
        {"sentence": ex.text, "label": data.LABELS[ex.label]}
        for ex in data.read_trees(path, phrases=False)
    ]
    return Table(["sentence", "label"], rows, "\t")
