"""Write batch results as CSV or Excel files that are safe to open and read back unchanged.

CSV: cells that a spreadsheet would run as a formula (OWASP "CSV injection": a leading
`=`, `+`, `-`, `@`, tab, CR or LF) get a leading `'`; a leading `'` is doubled so that
`unsanitize` can undo exactly what `sanitize` did. Excel (.xlsx): every text is written as
a string cell (sentiment/xlsxwrite.py), so nothing needs escaping and nothing is a formula.

Our columns are listed once, in RESULT_COLUMNS and `result_values`; both writers use them.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from batch.ingest import unique_names
from sentiment.xlsxwrite import Cell, XlsxTable

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
_ESCAPED = (*DANGEROUS, "'")
RESULT_COLUMNS = ("label", "score", "negative", "neutral", "positive", "truncated", "language")
ENCODING = "utf-8-sig"  # the BOM makes Excel read UTF-8 instead of the local code page


def sanitize(cell: str) -> str:
    """The cell with a `'` in front when a spreadsheet could read it as a formula."""
    return "'" + cell if cell.startswith(_ESCAPED) else cell


def unsanitize(cell: str) -> str:
    """Undo `sanitize`: `unsanitize(sanitize(s)) == s` for every string."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_ESCAPED) else cell


def result_values(
    label: str = "",
    probabilities: dict[str, float] | None = None,
    score: float | None = None,
    truncated: bool = False,
    language: str | None = None,
) -> list[Cell]:
    """Our cells of one row, in RESULT_COLUMNS' order: all None for a skipped (empty) row,
    all but the language for an unscored one (LANGUAGE_POLICY=skip)."""
    if probabilities is None or score is None:
        return [*[None] * (len(RESULT_COLUMNS) - 1), language]
    return [
        label,
        score,
        probabilities["negative"],
        probabilities["neutral"],
        probabilities["positive"],
        truncated,
        language,
    ]


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def result_header(columns: Sequence[str]) -> list[str]:
    """The input columns, then ours; ours get a suffix if the input already uses a name."""
    return unique_names([*columns, *RESULT_COLUMNS])


class ResultWriter:
    """Streams result rows to an open text file; every cell goes through `sanitize`."""

    def __init__(self, handle: IO[str], columns: Sequence[str]) -> None:
        # Quoting every cell keeps embedded delimiters, quotes and newlines intact.
        self._writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        self._writer.writerow([sanitize(name) for name in result_header(columns)])

    def write(
        self,
        cells: Sequence[str],
        label: str = "",
        probabilities: dict[str, float] | None = None,
        score: float | None = None,
        truncated: bool = False,
        language: str | None = None,
    ) -> None:
        """One input row plus its prediction; a skipped (empty) row leaves ours blank, an
        unscored one (LANGUAGE_POLICY=skip) all but its language."""
        ours = [
            _csv_cell(v) for v in result_values(label, probabilities, score, truncated, language)
        ]
        self._writer.writerow([sanitize(cell) for cell in cells] + ours)


class XlsxResultWriter:
    """The same rows as ResultWriter, into a workbook: texts as strings, figures as numbers."""

    def __init__(self, target: Path, columns: Sequence[str], tmpdir: Path | None = None) -> None:
        self._table = XlsxTable(target, result_header(columns), tmpdir=tmpdir)

    def write(
        self,
        cells: Sequence[str],
        label: str = "",
        probabilities: dict[str, float] | None = None,
        score: float | None = None,
        truncated: bool = False,
        language: str | None = None,
    ) -> None:
        """One input row plus its prediction; a skipped (empty) row leaves ours blank."""
        row = result_values(label, probabilities, score, truncated, language)
        self._table.write([*cells, *row])

    def close(self) -> None:
        self._table.close()


def open_results(path: Path) -> IO[str]:
    return path.open("w", encoding=ENCODING, newline="")


def read_results(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a results file, cells unsanitized (for tests and tools)."""
    with path.open(encoding=ENCODING, newline="") as f:
        rows = [[unsanitize(cell) for cell in row] for row in csv.reader(f)]
    return rows[0], rows[1:]
