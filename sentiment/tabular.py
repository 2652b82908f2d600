"""The one reader for tabular files: CSV, TSV and Excel (.xlsx), for uploads and the CLI.

Two passes over the file on disk: `inspect` checks all of it (encoding, delimiter or
sheet, header, quoting, limits) and builds a preview, so that every problem is reported
before any scoring starts; `iter_rows` / `iter_chunks` then stream the data rows. Uploads
pass their limits; the CLI passes none (`UNLIMITED`). The kind of file is read from its
first bytes, not its name. Row numbers are the file's line numbers for CSV/TSV and
Excel's row numbers for a workbook.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from errors import CsvFormatError
from sentiment.columns import choose_column, detect_text_column, unique_names
from sentiment.csvformat import (
    SNIFF_BYTES,
    Records,
    detect_encoding,
    fit_cells,
    open_text,
    sniff_delimiter,
)
from sentiment.table_info import CSV, UNLIMITED, XLSX, CsvInfo, Limits, Row
from sentiment.xlsxread import Workbook, kind_of

__all__ = [
    "UNLIMITED", "CsvInfo", "Limits", "Row", "inspect", "iter_chunks", "iter_rows",
    "model_text", "unique_names",
]  # fmt: skip

PREVIEW_ROWS = 10
SAMPLE_ROWS = 200  # rows that decide the text column when no name matches
REPORTED_LINES = 20  # empty-text rows listed by line number; the rest are only counted


RowStream = Iterator[tuple[int, list[str]]]


class _Place:
    """Says where a problem is: a file's line, or a sheet's row."""

    def __init__(self, sheet: str | None) -> None:
        self.sheet = sheet

    def error(self, reason: str, line: int | None = None) -> CsvFormatError:
        if self.sheet is None or line is None:
            return CsvFormatError(reason, line=line)
        return CsvFormatError(f"Row {line} of sheet {self.sheet!r}: {reason}")

    @property
    def empty(self) -> str:
        if self.sheet is None:
            return "The file is empty. Upload a CSV with a header row and data."
        return f"Sheet {self.sheet!r} is empty. Choose the sheet with a header row and data."


def inspect(
    path: Path | str,
    limits: Limits = UNLIMITED,
    *,
    text_column: str | None = None,
    sheet: str | None = None,
    preview_rows: int = PREVIEW_ROWS,
) -> CsvInfo:
    """Check the whole file and describe it; raises CsvFormatError on anything unreadable.

    Over a limit (size, rows) is also a CsvFormatError, raised before any scoring. `sheet`
    chooses a workbook's sheet (default: the first) and is ignored for CSV/TSV.
    """
    path = Path(path)
    size = os.path.getsize(path)
    if size > limits.max_bytes:
        raise CsvFormatError(
            f"The file is {size / 1e6:,.1f} MB; the limit is {limits.max_bytes / 1e6:,.0f} MB "
            "(MAX_UPLOAD_MB). Split it into smaller files."
        )
    if kind_of(path) == XLSX:
        book = Workbook(path, limits.max_bytes)
        try:
            chosen = book.sheet(sheet)
            place = _Place(chosen)
            scan = _scan(book.rows(chosen), "", place, limits, text_column)
        finally:
            book.close()
        return scan.info("", "", preview_rows, format=XLSX, sheet=chosen, sheets=book.sheets)
    encoding = detect_encoding(path)
    place = _Place(None)
    with open_text(path, encoding) as handle:
        try:
            sample = handle.read(SNIFF_BYTES)
        except UnicodeDecodeError as exc:
            raise CsvFormatError(
                f"The file is not valid {exc.encoding} ({exc.reason}). Save it as CSV UTF-8."
            ) from None
        if not sample.strip():
            raise place.error(place.empty)
        delimiter = sniff_delimiter(sample)
        handle.seek(0)
        scan = _scan(iter(Records(handle, delimiter)), delimiter, place, limits, text_column)
    return scan.info(encoding, delimiter, preview_rows)


@dataclass
class _Scan:
    columns: list[str]
    text_column: str
    detected: str
    rows: int
    tally: _Tally
    sample: list[list[str]]

    def info(
        self,
        encoding: str,
        delimiter: str,
        preview_rows: int,
        *,
        format: str = CSV,
        sheet: str | None = None,
        sheets: list[str] | None = None,
    ) -> CsvInfo:
        columns = self.columns
        return CsvInfo(
            encoding=encoding,
            delimiter=delimiter,
            columns=columns,
            text_column=self.text_column,
            detected_column=self.detected,
            rows=self.rows,
            empty_rows=self.tally.empty,
            empty_lines=self.tally.empty_lines,
            truncated_rows=self.tally.truncated,
            preview=[
                dict(zip(columns, cells, strict=True)) for cells in self.sample[:preview_rows]
            ],
            format=format,
            sheet=sheet,
            sheets=sheets or [],
        )


def _scan(
    records: RowStream, delimiter: str, place: _Place, limits: Limits, text_column: str | None
) -> _Scan:
    first = next(records, None)
    if first is None:
        raise place.error(place.empty)
    columns = unique_names(first[1])
    width = len(columns)
    sample_rows: list[list[str]] = []  # rows read before the text column is known
    tally = _Tally(limits.max_chars)
    chosen: tuple[str, int] | None = None
    rows = 0
    for line, raw in records:
        cells = fit_cells(raw, width, line, delimiter)
        rows += 1
        if rows > limits.max_rows:
            raise place.error(
                f"The file has more than {limits.max_rows:,} data rows, the limit per "
                "batch (MAX_BATCH_ROWS). Split it into smaller files.",
                line,
            )
        if chosen is None:
            sample_rows.append(cells)
            tally.pending.append(line)
            if len(sample_rows) == SAMPLE_ROWS:
                chosen = _pick(columns, sample_rows, text_column)
                tally.settle(sample_rows, chosen[1])
        else:
            tally.add(cells[chosen[1]], line)
    if rows == 0:
        raise CsvFormatError(
            f"The file has a header ({', '.join(columns)}) but no data rows. Nothing to score."
        )
    if chosen is None:
        chosen = _pick(columns, sample_rows, text_column)
        tally.settle(sample_rows, chosen[1])
    if text_column:  # the caller's choice stands even when no column looks like text
        try:
            detected = detect_text_column(columns, sample_rows)
        except CsvFormatError:
            detected = chosen[0]
    else:
        detected = chosen[0]
    if tally.empty == rows:
        raise CsvFormatError(
            f"Every row has an empty {chosen[0]!r} column; choose the column that holds the "
            f"texts (the columns are: {', '.join(columns)}).",
            column=chosen[0],
        )
    return _Scan(columns, chosen[0], detected, rows, tally, sample_rows)


def _pick(columns: list[str], sample: list[list[str]], wanted: str | None) -> tuple[str, int]:
    name = choose_column(columns, wanted) if wanted else detect_text_column(columns, sample)
    return name, columns.index(name)


class _Tally:
    """Counts empty and overlong texts, noting the first empty rows' line numbers."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.empty = self.truncated = 0
        self.empty_lines: list[int] = []
        self.pending: list[int] = []  # lines of the sample rows, counted once settled

    def add(self, text: str, line: int) -> None:
        if not text.strip():
            self.empty += 1
            if len(self.empty_lines) < REPORTED_LINES:
                self.empty_lines.append(line)
        elif len(text) > self.max_chars:
            self.truncated += 1

    def settle(self, sample: list[list[str]], index: int) -> None:
        for cells, line in zip(sample, self.pending, strict=True):
            self.add(cells[index], line)
        self.pending.clear()


def model_text(cell: str, max_chars: int) -> tuple[str, bool]:
    """The text a cell gives the model ("" for a blank cell), cut to `max_chars`, and
    whether it was cut."""
    text = cell if cell.strip() else ""
    cut = len(text) > max_chars
    return (text[:max_chars] if cut else text), cut


@contextmanager
def _records(path: Path, info: CsvInfo) -> Iterator[RowStream]:
    if info.format == XLSX:
        book = Workbook(path)
        try:
            yield book.rows(info.sheet or book.sheets[0])
        finally:
            book.close()
        return
    with open_text(path, info.encoding) as handle:
        yield iter(Records(handle, info.delimiter))


def iter_rows(path: Path | str, info: CsvInfo, limits: Limits = UNLIMITED) -> Iterator[Row]:
    """Every data row of a file `inspect` accepted, in order, blank lines left out."""
    width, index = len(info.columns), info.text_index
    with _records(Path(path), info) as records:
        next(records, None)  # the header
        for line, raw in records:
            cells = fit_cells(raw, width, line, info.delimiter)
            text, cut = model_text(cells[index], limits.max_chars)
            yield Row(line, cells, text, cut)


def iter_chunks(
    path: Path | str, info: CsvInfo, limits: Limits = UNLIMITED, size: int = 1_000
) -> Iterator[list[Row]]:
    """`iter_rows` in lists of at most `size`: only one chunk is in memory at a time."""
    rows = iter_rows(path, info, limits)
    while chunk := list(islice(rows, size)):
        yield chunk
