"""Read the tables the command line scores and evaluates: CSV/TSV, and SST tree files."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from errors import InvalidInput
from sentiment.columns import no_text_message, text_columns

# Preferred names for the text column, best first; matched whole, then as a part of a name.
TEXT_COLUMN_NAMES = (
    "text",
    "review",
    "comment",
    "message",
    "content",
    "tweet",
    "sentence",
    "body",
    "feedback",
    "review_text",
    "description",
)
_DELIMITERS = ",\t;|"
# Long reviews can exceed csv's default 128 KiB field limit.
csv.field_size_limit(2**31 - 1)


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[dict[str, str]]
    delimiter: str


def sniff_delimiter(path: Path, sample: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        # A one-column file, or quoted text that confuses the sniffer.
        first_line = sample.splitlines()[0] if sample else ""
        return (
            max(_DELIMITERS, key=first_line.count)
            if any(d in first_line for d in _DELIMITERS)
            else ","
        )


def read_table(path: Path | str) -> Table:
    """Rows of a delimited file with a header row; quoted fields may span lines."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            delimiter = sniff_delimiter(path, f.read(64 * 1024))
            f.seek(0)
            reader = csv.DictReader(f, delimiter=delimiter)
            columns = [c for c in (reader.fieldnames or []) if c is not None]
            rows = [{k: v for k, v in row.items() if k is not None} for row in reader]
    except FileNotFoundError as exc:
        raise InvalidInput(f"No such file: {path}.") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text; save it as UTF-8 CSV.") from exc
    except csv.Error as exc:
        raise InvalidInput(f"{path} is not a readable CSV/TSV file: {exc}.") from exc
    if not columns:
        raise InvalidInput(f"{path} is empty; it needs a header row and data rows.")
    return Table(columns, rows, delimiter)


def find_column(table: Table, name: str) -> str:
    """The column called ``name`` (case-insensitive); InvalidInput listing the columns."""
    for column in table.columns:
        if column == name or column.strip().lower() == name.strip().lower():
            return column
    raise InvalidInput(f"There is no column '{name}'; the columns are: {', '.join(table.columns)}.")


def detect_text_column(table: Table) -> str:
    """The column that holds the texts: a known name, else the longest text on average.

    Columns of mostly numbers are never chosen; without any other, InvalidInput names them.
    """
    sample = [[row.get(c) or "" for c in table.columns] for row in table.rows[:1000]]
    candidates = text_columns(table.columns, sample)
    if not candidates:
        raise InvalidInput(no_text_message(table.columns) + " Or name one with --text-column.")
    lowered = {c: c.strip().lower() for c in candidates}
    for wanted in TEXT_COLUMN_NAMES:
        for column, low in lowered.items():
            if low == wanted:
                return column
    for wanted in TEXT_COLUMN_NAMES:
        for column, low in lowered.items():
            if wanted in re.split(r"[\W_]+", low):
                return column

    def mean_length(column: str) -> float:
        values = [row.get(column) or "" for row in table.rows[:1000]]
        return sum(map(len, values)) / max(1, len(values))

    return max(candidates, key=mean_length)


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
