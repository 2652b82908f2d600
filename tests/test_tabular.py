"""The one tabular reader: CSV, TSV and .xlsx read alike for uploads and the CLI; Excel
cells as the text Excel shows, Excel's row numbers, sheets, and workbooks refused."""

from __future__ import annotations

import datetime as dt
import random
import string
import zipfile
from collections.abc import Sequence
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import pytest
import xlsxwriter

import batch.ingest
from errors import CsvFormatError, InvalidInput
from sentiment import tabular
from sentiment.csvio import detect_text_column, read_table
from sentiment.tabular import Limits, inspect, iter_rows
from sentiment.xlsxread import Workbook, cell_text
from sentiment.xlsxwrite import XlsxTable

LIMITS = Limits(max_bytes=1 << 20, max_rows=1_000, max_chars=1_000)
FORMULA_LIKE = ['=HYPERLINK("http://x","click")', "+1 great", "-bad", "@SUM(A1)", "=1+1"]


def workbook(path: Path, sheets: dict[str, Sequence[Sequence[object]]], top: int = 0) -> Path:
    """An .xlsx with these sheets; strings written as strings, rows from row `top`."""
    book = xlsxwriter.Workbook(path, {"strings_to_formulas": False})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows, start=top):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, dates)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


REVIEWS = [["id", "review", "stars"], [1, "Lovely staff", 5], [2, "Cold food", 1], [3, "", 3]]


def test_uploads_and_the_cli_share_one_reader() -> None:
    assert batch.ingest.inspect is tabular.inspect
    assert batch.ingest.iter_rows is tabular.iter_rows


@pytest.mark.parametrize("kind", ["csv", "tsv", "xlsx"])
def test_csv_tsv_and_xlsx_read_the_same(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"in.{kind}"
    if kind == "xlsx":
        workbook(path, {"Sheet1": REVIEWS})
    else:
        sep = "," if kind == "csv" else "\t"
        path.write_text("\n".join(sep.join(map(str, r)) for r in REVIEWS) + "\n", "utf-8")
    info = inspect(path, LIMITS)
    assert info.columns == ["id", "review", "stars"] and info.text_column == "review"
    assert [row.cells for row in iter_rows(path, info, LIMITS)] == [
        ["1", "Lovely staff", "5"], ["2", "Cold food", "1"], ["3", "", "3"],
    ]  # fmt: skip
    assert info.empty_rows == 1 and info.empty_lines == [4]
    table = read_table(path)  # the CLI's reading
    assert table.columns == info.columns and detect_text_column(table) == "review"
    assert table.rows[0] == {"id": "1", "review": "Lovely staff", "stars": "5"}


def test_excel_cells_become_the_text_excel_shows(tmp_path: Path) -> None:
    rows = [
        ["text", "n", "x", "ok", "day", "big"],
        ["fine", 3, 3.5, True, dt.datetime(2024, 5, 1), 12345678901234],
        ["meh", 0.1 + 0.2, -2, False, None, 1e20],
    ]
    path = workbook(tmp_path / "types.xlsx", {"S": rows})
    info = inspect(path, LIMITS)
    got = [row.cells for row in iter_rows(path, info, LIMITS)]
    assert got == [
        ["fine", "3", "3.5", "TRUE", "2024-05-01", "12345678901234"],
        ["meh", "0.3", "-2", "FALSE", "", "1e+20"],
    ]
    assert cell_text(dt.datetime(2024, 5, 1, 10, 30)) == "2024-05-01 10:30:00"
    assert cell_text(dt.time(10, 30)) == "10:30:00" and cell_text(None) == ""


def test_row_numbers_are_excels(tmp_path: Path) -> None:
    # The header on row 3 (two empty rows above), an empty text on row 6, blank row 7.
    rows = [["id", "text"], [1, "good"], [2, "bad"], [3, ""], [None, None], [5, "ok"]]
    path = workbook(tmp_path / "rows.xlsx", {"S": rows}, top=2)
    info = inspect(path, LIMITS)
    assert info.empty_lines == [6]
    assert [row.line for row in iter_rows(path, info, LIMITS)] == [4, 5, 6, 8]
    small = Limits(max_bytes=1 << 20, max_rows=2, max_chars=1_000)
    with pytest.raises(CsvFormatError, match=r"^Row 6 of sheet 'S': The file has more than 2"):
        inspect(path, small)


def test_the_first_sheet_by_default_another_by_name(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "two.xlsx",
        {"Notes": [["note"], ["read me"]], "Reviews": [["text"], ["great"], ["awful"]]},
    )
    first = inspect(path, LIMITS)
    assert first.sheet == "Notes" and first.sheets == ["Notes", "Reviews"]
    chosen = inspect(path, LIMITS, sheet="reviews")
    assert chosen.sheet == "Reviews" and chosen.rows == 2
    assert [r.text for r in iter_rows(path, chosen, LIMITS)] == ["great", "awful"]
    with pytest.raises(CsvFormatError) as caught:
        inspect(path, LIMITS, sheet="Sales")
    assert caught.value.message == (
        "The workbook has no sheet 'Sales'. Its sheets are: Notes, Reviews."
    )


def test_a_sheet_of_numbers_is_refused_unless_its_column_is_chosen(tmp_path: Path) -> None:
    path = workbook(tmp_path / "n.xlsx", {"S": [["id", "price"], [1, 2.5], [3, 4]]})
    with pytest.raises(CsvFormatError, match="No column holds text: id, price"):
        inspect(path, LIMITS)
    assert inspect(path, LIMITS, text_column="price").text_column == "price"
    with pytest.raises(InvalidInput, match="No column holds text: id, price"):
        read_table(path)


def test_a_column_of_booleans_is_not_text(tmp_path: Path) -> None:
    path = workbook(tmp_path / "b.xlsx", {"S": [["id", "active"], [1, True], [2, False]]})
    with pytest.raises(CsvFormatError, match="No column holds text: id, active"):
        inspect(path, LIMITS)
    both = workbook(tmp_path / "c.xlsx", {"S": [["ok", "note"], [True, "fine"], [False, "no"]]})
    assert inspect(both, LIMITS).text_column == "note"


def test_an_empty_sheet_says_so(tmp_path: Path) -> None:
    path = workbook(tmp_path / "e.xlsx", {"Empty": [], "S": [["text"], ["x"]]})
    with pytest.raises(CsvFormatError, match="Sheet 'Empty' is empty"):
        inspect(path, LIMITS)


def test_corrupt_and_disguised_workbooks_are_refused(tmp_path: Path) -> None:
    good = workbook(tmp_path / "good.xlsx", {"S": REVIEWS}).read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good[: len(good) // 2])
    other_zip = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    for path in (cut, other_zip):
        with pytest.raises(CsvFormatError, match="not a readable Excel workbook"):
            inspect(path, LIMITS)
    picture = tmp_path / "photo.xlsx"  # a PNG renamed: binary, not text
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CsvFormatError, match="NUL bytes"):
        inspect(picture, LIMITS)


def test_a_password_protected_workbook_is_refused(tmp_path: Path) -> None:
    plain = workbook(tmp_path / "plain.xlsx", {"S": REVIEWS})
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, locked.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("secret", out)
    assert locked.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    with pytest.raises(CsvFormatError) as caught:
        inspect(locked, LIMITS)
    assert caught.value.message.startswith(
        "The workbook is password-protected; save it without a password"
    )
    old = tmp_path / "old.xls"  # a compound file without an encrypted package: old .xls
    old.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504)
    with pytest.raises(CsvFormatError, match=r"old Excel 97-2003 workbook \(\.xls\)"):
        inspect(old, LIMITS)


def test_a_zip_bomb_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    rng = random.Random(7)
    rows = [["text"], *(["".join(rng.choices(string.ascii_letters, k=60))] for _ in range(2_000))]
    path = workbook(tmp_path / "big.xlsx", {"S": rows})
    tiny = Limits(max_bytes=path.stat().st_size, max_rows=10_000, max_chars=1_000)
    assert inspect(path, tiny).rows == 2_000  # honest compression passes
    with pytest.raises(CsvFormatError, match="The workbook unpacks to"):
        Workbook(path, max_bytes=1_000)


def test_written_workbooks_hold_no_formulas(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    with XlsxTable(path, ["text", "score", "ok"], max_rows=3) as table:
        for text in FORMULA_LIKE:
            table.write([text, 0.5, True])
        table.write(["y" * 40_000, None, None])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["results", "results (2)", "results (3)"]  # 3 rows a sheet
    cells = [row for sheet in book for row in sheet.iter_rows(min_row=2)]
    texts = [row[0] for row in cells]
    assert [c.value for c in texts[:5]] == FORMULA_LIKE
    assert all(c.data_type == "s" for c in texts)  # strings, never "f" (formula)
    assert cells[0][1].data_type == "n" and cells[0][2].data_type == "b"
    assert len(texts[5].value) == 32_767  # Excel's most per cell
    back = tmp_path / "back.xlsx"
    back.write_bytes(path.read_bytes())
    info = inspect(back, LIMITS)  # and read back by our reader: the same texts
    assert [r.cells[0] for r in iter_rows(back, info, LIMITS)][:2] == FORMULA_LIKE[:2]


def test_excel_text_is_kept_as_typed(tmp_path: Path) -> None:
    """Formula-looking strings in an uploaded workbook reach the model as typed."""
    path = workbook(tmp_path / "f.xlsx", {"S": [["text"], *([t] for t in FORMULA_LIKE)]})
    info = inspect(path, LIMITS)
    assert [row.text for row in iter_rows(path, info, LIMITS)] == FORMULA_LIKE
