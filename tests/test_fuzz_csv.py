"""Hypothesis over the CSV reader (batch/ingest.py), 10,000 examples per property.

Whatever the bytes, `inspect` either describes the file consistently (and `iter_rows`
then streams exactly the rows it counted) or raises CsvFormatError with a message;
never another exception. Files written by a real CSV writer, in any supported
delimiter, quoting, line ending and encoding, read back with the same rows and texts.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

from batch.ingest import CsvInfo, Limits, inspect, iter_rows
from errors import CsvFormatError, InvalidInput
from sentiment.columns import holds_text, text_columns

EXAMPLES = 10_000
LIMITS = Limits(max_bytes=1 << 20, max_rows=1_000, max_chars=40)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file, overwritten by every example (a fresh file each time costs more than the read)."""
    return tmp_path_factory.mktemp("fuzz-csv") / "upload.csv"


def read(path: Path, data: bytes, text_column: str | None = None) -> CsvInfo | CsvFormatError:
    """`inspect` then `iter_rows` to the end; the result, or the domain error it raised."""
    path.write_bytes(data)
    try:
        info = inspect(path, LIMITS, text_column=text_column)
        rows = list(iter_rows(path, info, LIMITS))
    except InvalidInput as exc:
        assert isinstance(exc, CsvFormatError), repr(exc)
        assert exc.message.strip(), "an error without a message"
        return exc
    check_well_formed(info, rows)
    return info


def check_well_formed(info: CsvInfo, rows: list) -> None:  # type: ignore[type-arg]
    columns = info.columns
    assert columns and all(isinstance(c, str) and c for c in columns)
    assert len({c.lower() for c in columns}) == len(columns), columns
    assert info.text_column in columns and info.detected_column in columns
    assert info.delimiter in (",", ";", "\t", "|", "\x1e")
    assert 1 <= info.to_score <= info.rows <= LIMITS.max_rows
    assert len(info.empty_lines) == min(info.empty_rows, 20)
    assert len(info.preview) == min(info.rows, 10)
    assert all(list(p) == columns for p in info.preview)
    # iter_rows streams exactly what inspect counted.
    assert len(rows) == info.rows
    assert sum(1 for r in rows if not r.text) == info.empty_rows
    assert sum(r.truncated for r in rows) == info.truncated_rows
    assert [r.line for r in rows if not r.text][:20] == info.empty_lines
    lines = [r.line for r in rows]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    for r in rows:
        assert len(r.cells) == len(columns)
        assert len(r.text) <= LIMITS.max_chars
        assert r.truncated == (len(r.cells[info.text_index]) > LIMITS.max_chars)


# --- arbitrary bytes ---------------------------------------------------------------------

CSVISH = st.text(
    alphabet=st.sampled_from(list("ab ,;\t|\"'\r\n\ufeff\x1eé€\u2028")) | st.characters(),
    max_size=300,
)
BOMS = st.sampled_from(
    [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE]
)


@st.composite
def byte_soup(draw: st.DrawFn) -> bytes:
    """Raw bytes, or CSV-ish text in a random encoding, behind a random byte-order mark."""
    kind = draw(st.sampled_from(["binary", "text"]))
    if kind == "binary":
        return draw(BOMS) + draw(st.binary(max_size=600))
    text = draw(CSVISH)
    encoding = draw(st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "cp1252"]))
    return draw(BOMS) + text.encode(
        encoding, errors="replace" if encoding == "cp1252" else "surrogatepass"
    )


@FUZZ
@given(data=byte_soup())
@example(data=b"")
@example(data=b"PK\x03\x04rest")
@example(data=b"text\n\x00")
@example(data=codecs.BOM_UTF16_LE + b"t\x00e\x00x")  # odd length: truncated UTF-16
@example(data=codecs.BOM_UTF16_LE + b"\x00\xd8a\x00")  # lone surrogate
@example(data=b'text\n"never closed\n')
@example(data=b"a,b\n1,2,3\n")
def test_fuzz_csv_any_bytes_reads_or_says_why(scratch: Path, data: bytes) -> None:
    note(repr(data))
    read(scratch, data)


# --- files written by a CSV writer -------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "utf-32", "cp1252"]
# Every printable character cp1252 defines (0x81, 0x8D, 0x8F, 0x90 and 0x9D are holes).
CP1252 = "".join(
    bytes([b]).decode("cp1252")
    for b in range(0x20, 0x100)
    if b not in (0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D)
)


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    text_index: int
    delimiter: str
    encoding: str
    data: bytes

    @property
    def expected_rows(self) -> list[list[str]]:
        return nonblank(self.rows)


def nonblank(rows: list[list[str]]) -> list[list[str]]:
    """The reader skips records whose cells are all blank."""
    return [r for r in rows if any(c.strip() for c in r)]


def cell_text(encoding: str) -> st.SearchStrategy[str]:
    """Delimiters, quotes, line breaks and spaces between a few letters; or any text."""
    specials = st.text(alphabet=",;\t|\"\r\n 'abé", max_size=40)
    if encoding == "cp1252":
        return specials | st.text(alphabet=CP1252, max_size=40)
    # NUL is refused on purpose; \x1e (the one-column reader's stand-in delimiter) may appear.
    chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
    return specials | st.text(chars | st.sampled_from("😀\ufeff"), max_size=40)


NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    encoding = draw(st.sampled_from(ENCODINGS))
    width = draw(st.integers(1, 5))
    others = draw(
        st.lists(
            NAME.filter(lambda n: "text" not in n),
            min_size=width - 1,
            max_size=width - 1,
            unique_by=str.lower,
        )
    )
    text_index = draw(st.integers(0, width - 1))
    header = [*others[:text_index], "text", *others[text_index:]]
    cells = cell_text(encoding)
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width), min_size=1, max_size=15))
    delimiter = "\x1e" if width == 1 else draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    terminator = draw(st.sampled_from(["\r\n", "\n", "\r"]))  # \r: Excel for Mac's CSV
    if terminator != "\r\n" and any(c in cell for row in rows for cell in row for c in "\r\n"):
        # Python's writer may leave a lone line-end character unquoted when it is not the
        # terminator, and outside quotes that is a line end for every reader.
        quoting = csv.QUOTE_ALL
    out = io.StringIO()
    # A one-column file has no delimiter; the writer still needs one it will never meet.
    writer = csv.writer(
        out, delimiter=delimiter if width > 1 else ",", quoting=quoting, lineterminator=terminator
    )
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    # Only files the stdlib reads back as written count.
    back = csv.reader(io.StringIO(text, newline=""), delimiter=writer.dialect.delimiter)
    assume([r for r in back if any(c.strip() for c in r)] == [header, *nonblank(rows)])
    if encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    return Table(header, rows, text_index, delimiter, encoding, data)


@FUZZ
@given(table=tables())
def test_fuzz_csv_written_files_round_trip(scratch: Path, table: Table) -> None:
    note(f"{table.encoding} {table.delimiter!r}: {table.data!r}")
    result = read(scratch, table.data)
    expected = table.expected_rows
    if not holds_text(r[table.text_index] for r in expected):
        # The "text" column is empty or mostly numbers: another column that holds text is
        # guessed, and without one the file is refused.
        if text_columns(table.header, expected):
            assert isinstance(result, CsvInfo), f"{result} in {table.data!r}"
            assert result.text_column != "text"
        else:
            assert isinstance(result, CsvFormatError), result
        return
    assert isinstance(result, CsvInfo), f"{result} in {table.data!r}"
    if table.encoding == "cp1252" and result.encoding == "utf-8":
        return  # these cp1252 bytes are also valid UTF-8: the bytes cannot say which was meant
    assert result.columns == table.header
    assert result.text_column == "text"
    assert result.delimiter == table.delimiter
    assert result.rows == len(expected)
    rows = list(iter_rows(scratch, result, LIMITS))
    assert [r.cells for r in rows] == expected
    texts = [r[table.text_index] for r in expected]
    assert [r.text for r in rows] == [t[: LIMITS.max_chars] if t.strip() else "" for t in texts]


def test_fuzz_csv_one_column_text_may_contain_a_record_separator(scratch: Path) -> None:
    result = read(scratch, b"text\nfirst review\nsecond\x1ereview\n")
    assert isinstance(result, CsvInfo), result
    assert result.rows == 2


def test_fuzz_csv_mac_line_ends_keep_their_columns(scratch: Path) -> None:
    result = read(scratch, b"id,review\r1,great food\r2,awful service\r")
    assert isinstance(result, CsvInfo), result
    assert result.columns == ["id", "review"]
