"""Read uploaded CSV/TSV files the way real exports arrive, in bounded memory.

Two passes over the file on disk: `inspect` checks all of it (encoding, delimiter, header,
quoting, limits) and builds a preview, so that every problem is reported before any
scoring starts; `iter_chunks` then streams the data rows in chunks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from batch.columns import choose_column, detect_text_column, unique_names
from batch.csvformat import (
    DELIMITER_NAMES,
    SNIFF_BYTES,
    Records,
    detect_encoding,
    fit_cells,
    open_text,
    sniff_delimiter,
)
from errors import CsvFormatError

__all__ = [
    "CsvInfo", "Limits", "Row", "inspect", "iter_chunks", "iter_rows", "model_text", "unique_names",
]  # fmt: skip

PREVIEW_ROWS = 10
SAMPLE_ROWS = 200  # rows that decide the text column when no name matches
REPORTED_LINES = 20  # empty-text rows listed by line number; the rest are only counted


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_chars: int


@dataclass(frozen=True)
class CsvInfo:
    """What `inspect` learnt about a file; enough to show a preview and stream it."""

    encoding: str
    delimiter: str
    columns: list[str]
    text_column: str
    detected_column: str  # the guess; `text_column` differs when the caller chose another
    rows: int  # data rows, blank lines not counted
    empty_rows: int  # rows whose text is empty: reported and skipped
    empty_lines: list[int]  # line numbers of the first REPORTED_LINES of them
    truncated_rows: int  # texts longer than the limit, cut for the model
    preview: list[dict[str, str]] = field(repr=False)

    @property
    def text_index(self) -> int:
        return self.columns.index(self.text_column)

    @property
    def to_score(self) -> int:
        return self.rows - self.empty_rows

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


@dataclass(frozen=True)
class Row:
    line: int  # line where the record starts (1-based)
    cells: list[str]  # one per column
    text: str  # the text for the model, cut to the limit; "" when empty
    truncated: bool


def inspect(
    path: Path | str,
    limits: Limits,
    *,
    text_column: str | None = None,
    preview_rows: int = PREVIEW_ROWS,
) -> CsvInfo:
    """Check the whole file and describe it; raises CsvFormatError on anything unreadable.

    Over a limit (size, rows) is also a CsvFormatError, raised before any scoring.
    """
    path = Path(path)
    size = os.path.getsize(path)
    if size > limits.max_bytes:
        raise CsvFormatError(
            f"The file is {size / 1e6:,.1f} MB; the limit is {limits.max_bytes / 1e6:,.0f} MB "
            "(MAX_UPLOAD_MB). Split it into smaller files."
        )
    encoding = detect_encoding(path)
    with open_text(path, encoding) as handle:
        try:
            sample = handle.read(SNIFF_BYTES)
        except UnicodeDecodeError as exc:
            raise CsvFormatError(
                f"The file is not valid {exc.encoding} ({exc.reason}). Save it as CSV UTF-8."
            ) from None
        if not sample.strip():
            raise CsvFormatError("The file is empty. Upload a CSV with a header row and data.")
        delimiter = sniff_delimiter(sample)
        handle.seek(0)
        records = iter(Records(handle, delimiter))
        first = next(records, None)
        if first is None:
            raise CsvFormatError("The file is empty. Upload a CSV with a header row and data.")
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
                raise CsvFormatError(
                    f"The file has more than {limits.max_rows:,} data rows, the limit per "
                    "batch (MAX_BATCH_ROWS). Split it into smaller files.",
                    line=line,
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
    return CsvInfo(
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        text_column=chosen[0],
        detected_column=detected,
        rows=rows,
        empty_rows=tally.empty,
        empty_lines=tally.empty_lines,
        truncated_rows=tally.truncated,
        preview=[dict(zip(columns, cells, strict=True)) for cells in sample_rows[:preview_rows]],
    )


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


def iter_rows(path: Path | str, info: CsvInfo, limits: Limits) -> Iterator[Row]:
    """Every data row of a file `inspect` accepted, in order, blank lines left out."""
    width, index = len(info.columns), info.text_index
    with open_text(Path(path), info.encoding) as handle:
        records = iter(Records(handle, info.delimiter))
        next(records, None)  # the header
        for line, raw in records:
            cells = fit_cells(raw, width, line, info.delimiter)
            text, cut = model_text(cells[index], limits.max_chars)
            yield Row(line, cells, text, cut)


def iter_chunks(path: Path | str, info: CsvInfo, limits: Limits, size: int) -> Iterator[list[Row]]:
    """`iter_rows` in lists of at most `size`: only one chunk is in memory at a time."""
    rows = iter_rows(path, info, limits)
    while chunk := list(islice(rows, size)):
        yield chunk
