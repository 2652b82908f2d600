"""What reading a table gives: the limits it was read under, what `inspect` learnt about
the file, and a data row (sentiment/tabular.py reads; these describe)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sentiment.csvformat import DELIMITER_NAMES

XLSX = "xlsx"
CSV = "csv"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_chars: int


UNLIMITED = Limits(max_bytes=1 << 62, max_rows=1 << 62, max_chars=1 << 62)


@dataclass(frozen=True)
class CsvInfo:
    """What `inspect` learnt about a file; enough to show a preview and stream it."""

    encoding: str  # "" for a workbook
    delimiter: str  # "" for a workbook
    columns: list[str]
    text_column: str
    detected_column: str  # the guess; `text_column` differs when the caller chose another
    rows: int  # data rows, blank lines not counted
    empty_rows: int  # rows whose text is empty: reported and skipped
    empty_lines: list[int]  # line (or Excel row) numbers of the first REPORTED_LINES of them
    truncated_rows: int  # texts longer than the limit, cut for the model
    preview: list[dict[str, str]] = field(repr=False)
    format: str = CSV  # "csv" (CSV/TSV/text) or "xlsx"
    sheet: str | None = None  # the sheet read, for a workbook
    sheets: list[str] = field(default_factory=list)  # every worksheet of a workbook

    @property
    def text_index(self) -> int:
        return self.columns.index(self.text_column)

    @property
    def to_score(self) -> int:
        return self.rows - self.empty_rows

    @property
    def delimiter_name(self) -> str:
        if self.format == XLSX:
            return ""
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


@dataclass(frozen=True)
class Row:
    line: int  # line (or Excel row) where the record starts (1-based)
    cells: list[str]  # one per column
    text: str  # the text for the model, cut to the limit; "" when empty
    truncated: bool
