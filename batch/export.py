"""Write batch results as a CSV that is safe to open in Excel and reads back unchanged.

Cells that a spreadsheet would run as a formula (OWASP "CSV injection": a leading `=`,
`+`, `-`, `@`, tab, CR or LF) get a leading `'`; a leading `'` is doubled so that
`unsanitize` can undo exactly what `sanitize` did.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from batch.ingest import unique_names

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
        if probabilities is None or score is None:
            ours = ["", "", "", "", "", ""]
        else:
            ours = [
                label,
                f"{score:.6f}",
                f"{probabilities['negative']:.6f}",
                f"{probabilities['neutral']:.6f}",
                f"{probabilities['positive']:.6f}",
                "true" if truncated else "false",
            ]
        ours.append(language or "")
        self._writer.writerow([sanitize(cell) for cell in cells] + ours)


def open_results(path: Path) -> IO[str]:
    return path.open("w", encoding=ENCODING, newline="")


def read_results(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a results file, cells unsanitized (for tests and tools)."""
    with path.open(encoding=ENCODING, newline="") as f:
        rows = [[unsanitize(cell) for cell in row] for row in csv.reader(f)]
    return rows[0], rows[1:]
