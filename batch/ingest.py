"""Read uploaded CSV/TSV files the way real exports arrive, in bounded memory.

Two passes over the file on disk: `inspect` checks all of it (encoding, delimiter, header,
quoting, limits) and builds a preview, so that every problem is reported before any
scoring starts; `iter_chunks` then streams the data rows in chunks.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO

from errors import CsvFormatError
from sentiment.columns import no_text_message, text_columns

# Preferred names for the text column, best first; matched whole, then as part of a name.
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
    "description",
    "post",
)
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "\x1e": "none"}
ONE_COLUMN = "\x1e"  # a delimiter no text contains: a one-column file keeps its commas
SNIFF_BYTES = 64 * 1024
PREVIEW_ROWS = 10
SAMPLE_ROWS = 200  # rows that decide the text column when no name matches
REPORTED_LINES = 20  # empty-text rows listed by line number; the rest are only counted
_BLOCK = 1 << 20

# A text longer than the upload limit cannot exist, so csv's 128 KiB cap only gets in the way.
csv.field_size_limit(2**31 - 1)


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


def detect_encoding(path: Path) -> str:
    """`utf-8-sig`, `utf-16`, `utf-32`, `utf-8`, else `cp1252`, else `latin-1`."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"PK\x03\x04"):
        raise CsvFormatError(
            "This is an Excel workbook (.xlsx) or another zip file, not a CSV. In Excel use "
            "File > Save As > CSV UTF-8, then upload that file."
        )
    _check_no_nul(path)
    for encoding in ("utf-8", "cp1252"):
        if _decodes(path, encoding):
            return encoding
    return "latin-1"  # every byte sequence is valid latin-1


def _check_no_nul(path: Path) -> None:
    line = 1
    with path.open("rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            at = block.find(b"\x00")
            if at >= 0:
                line += block.count(b"\n", 0, at)
                raise CsvFormatError(
                    "The file contains NUL bytes, so it is binary or UTF-16 without a "
                    "byte-order mark. Save it as CSV UTF-8 and upload it again.",
                    line=line,
                )
            line += block.count(b"\n")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(_BLOCK), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _open_text(path: Path, encoding: str) -> IO[str]:
    return path.open(encoding=encoding, newline="")


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the header and the sample rows most consistently."""
    # Cut at the last line end (LF, CRLF or a classic-Mac CR) so no row is half read.
    complete = sample[: max(sample.rfind("\n"), sample.rfind("\r")) + 1] or sample
    best, best_key = ONE_COLUMN, (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            lines = io.StringIO(complete, newline="")
            rows = [r for r in csv.reader(lines, delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        data = rows[1:51] or rows[:1]
        # Short rows and trailing empty cells (Excel's ",,,") still fit the header.
        fits = sum(not any(c.strip() for c in r[width:]) for r in data) / len(data)
        key = (fits, width)
        if fits >= 0.5 and key > best_key:
            best, best_key = delimiter, key
    return best


def unique_names(header: list[str]) -> list[str]:
    """Strip names, name empty ones `column_N`, suffix duplicates `_2`, `_3`..."""
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header, start=1):
        base = raw.strip().lstrip("\ufeff").strip() or f"column_{i}"
        name, n = base, 1
        while name.lower() in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name.lower())
        names.append(name)
    return names


def _normal(name: str) -> str:
    return re.sub(r"[\s\-/.]+", "_", name.strip().lower())


def detect_text_column(columns: list[str], sample: list[list[str]]) -> str:
    """By name (text, review, comment, ...), else the column with the longest texts.

    Only columns that hold text count: one of mostly numbers is never guessed, and a file
    without any is a CsvFormatError naming its columns.
    """
    candidates = text_columns(columns, sample)
    if not candidates:
        raise CsvFormatError(no_text_message(columns))
    normal = [_normal(c) for c in candidates]
    for wanted in TEXT_COLUMN_NAMES:
        if wanted in normal:
            return candidates[normal.index(wanted)]
    for wanted in TEXT_COLUMN_NAMES:
        for i, name in enumerate(normal):
            if wanted in name.split("_"):
                return candidates[i]

    def mean_length(name: str) -> float:
        i = columns.index(name)
        cells = [r[i].strip() for r in sample if i < len(r) and r[i].strip()]
        return sum(map(len, cells)) / len(cells) if cells else 0.0

    return max(candidates, key=mean_length)


def choose_column(columns: list[str], wanted: str) -> str:
    """The column called `wanted` (case-insensitive), or CsvFormatError listing them."""
    for name in columns:
        if name == wanted.strip() or name.lower() == wanted.strip().lower():
            return name
    raise CsvFormatError(
        f"There is no column {wanted!r}. The columns are: {', '.join(columns)}.",
        column=wanted,
    )


class _Records:
    """csv.reader over an open file that knows the line each record starts on."""

    def __init__(self, handle: IO[str], delimiter: str) -> None:
        self._reader = csv.reader(handle, delimiter=delimiter, strict=True)
        self._one_column = delimiter == ONE_COLUMN
        self.width = 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader = self._reader
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _quoting_error(start, reader.line_num, exc) from None
            except UnicodeDecodeError as exc:
                raise CsvFormatError(
                    f"The file is not valid {exc.encoding} ({exc.reason}). Save it as CSV "
                    "UTF-8 and upload it again.",
                    line=reader.line_num + 1,
                ) from None
            if self._one_column and len(cells) > 1:
                cells = [ONE_COLUMN.join(cells)]  # the stand-in delimiter is text here
            if any(cell.strip() for cell in cells):
                yield start, cells


def _quoting_error(start: int, line: int, exc: csv.Error) -> CsvFormatError:
    if "unexpected end of data" in str(exc):
        return CsvFormatError(
            'a quoted field opened here is never closed: a " is missing, or a " inside '
            'a text must be written as "".',
            line=start,
        )
    return CsvFormatError(
        f'a quote is misplaced ({exc}). Inside a quoted text write a quote as "", and '
        "put quotes around the whole field.",
        line=line,
    )


def _fit(cells: list[str], width: int, line: int, delimiter: str) -> list[str]:
    if len(cells) > width:
        if any(cell.strip() for cell in cells[width:]):
            sep = DELIMITER_NAMES.get(delimiter, delimiter)
            raise CsvFormatError(
                f"this row has {len(cells)} fields but the header has {width}. A text that "
                f"contains the delimiter ({sep}) must be in double quotes.",
                line=line,
            )
        return cells[:width]
    return cells + [""] * (width - len(cells))


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
    with _open_text(path, encoding) as handle:
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
        records = iter(_Records(handle, delimiter))
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
            cells = _fit(raw, width, line, delimiter)
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
    detected = detect_text_column(columns, sample_rows)
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


def iter_rows(path: Path | str, info: CsvInfo, limits: Limits) -> Iterator[Row]:
    """Every data row of a file `inspect` accepted, in order, blank lines left out."""
    width, index = len(info.columns), info.text_index
    with _open_text(Path(path), info.encoding) as handle:
        records = iter(_Records(handle, info.delimiter))
        next(records, None)  # the header
        for line, raw in records:
            cells = _fit(raw, width, line, info.delimiter)
            text = cells[index] if cells[index].strip() else ""
            cut = len(text) > limits.max_chars
            yield Row(line, cells, text[: limits.max_chars] if cut else text, cut)


def iter_chunks(path: Path | str, info: CsvInfo, limits: Limits, size: int) -> Iterator[list[Row]]:
    """`iter_rows` in lists of at most `size`: only one chunk is in memory at a time."""
    rows = iter_rows(path, info, limits)
    while chunk := list(islice(rows, size)):
        yield chunk
