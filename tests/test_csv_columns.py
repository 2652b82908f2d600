"""A column of numbers is never the text column; a file without text is refused early."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch.ingest import Limits, inspect
from errors import CsvFormatError, InvalidInput
from sentiment.columns import holds_text, is_number
from sentiment.csvio import detect_text_column, read_table

LIMITS = Limits(max_bytes=1 << 20, max_rows=1_000, max_chars=1_000)


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "value", ["1", "-3.5", "1,234.00", "$5", "12%", "(7)", "1e-3", "2024-05-01", "12/03/2024"]
)
def test_numbers_amounts_and_dates_are_numbers(value: str) -> None:
    assert is_number(value)


@pytest.mark.parametrize("value", ["5 stars", "nan", "great", "A1", "10/10 would buy again"])
def test_words_are_not_numbers(value: str) -> None:
    assert not is_number(value)


def test_a_column_of_mostly_numbers_holds_no_text() -> None:
    assert not holds_text(["1", "2", "three", "4", ""])
    assert holds_text(["1", "good", "bad"])
    assert not holds_text(["", " "])


def test_upload_of_only_numbers_is_refused_naming_the_columns(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError) as caught:
        inspect(write(tmp_path, "id,price\n1,2\n3,4\n"), LIMITS)
    assert "No column holds text: id, price" in caught.value.message


def test_upload_never_guesses_a_numeric_column(tmp_path: Path) -> None:
    # "comment" is a preferred name and the ids are the longest cells, yet neither is text.
    content = "comment,id,note\n1,100000001,ok\n2,100000002,fine thanks\n3,100000003,meh\n"
    assert inspect(write(tmp_path, content), LIMITS).text_column == "note"


def test_cli_table_of_only_numbers_is_refused_naming_the_columns(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="No column holds text: id, price"):
        detect_text_column(read_table(write(tmp_path, "id,price\n1,2\n3,4\n")))


def test_cli_never_guesses_a_numeric_column(tmp_path: Path) -> None:
    content = "text,stars,summary\n5,5,Lovely\n4,4,Good enough\n"
    assert detect_text_column(read_table(write(tmp_path, content))) == "summary"
