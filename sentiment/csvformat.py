"""How the bytes of a CSV/TSV become records: encoding, delimiter, quoting.

`sentiment.tabular` builds on this (and on `sentiment.xlsxread` for workbooks) to check a
whole file and stream its rows.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from errors import CsvFormatError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "\x1e": "none"}
ONE_COLUMN = "\x1e"  # a delimiter no text contains: a one-column file keeps its commas
SNIFF_BYTES = 64 * 1024
_BLOCK = 1 << 20

# A text longer than the upload limit cannot exist, so csv's 128 KiB cap only gets in the way.
csv.field_size_limit(2**31 - 1)


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


def open_text(path: Path, encoding: str) -> IO[str]:
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


class Records:
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


def fit_cells(cells: list[str], width: int, line: int, delimiter: str) -> list[str]:
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
