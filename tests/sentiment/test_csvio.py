"""Reading the files users bring: delimiters, quoting, text-column detection, SST trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from errors import InvalidInput
from sentiment.csvio import detect_text_column, find_column, read_sst_trees, read_table


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = ["id", "Review Text"], ["1", "Great, really"], ["2", "Bad; sad"]
    content = "\n".join(
        delimiter.join(f'"{c}"' if delimiter in c or "," in c or ";" in c else c for c in row)
        for row in rows
    )
    table = read_table(write(tmp_path / "in.csv", content + "\n"))
    assert table.columns == ["id", "Review Text"]
    assert [r["Review Text"] for r in table.rows] == ["Great, really", "Bad; sad"]


def test_quoted_fields_span_lines_and_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes('\ufefftext,stars\n"Line one\nline ""two""",5\n'.encode())
    table = read_table(path)
    assert table.columns == ["text", "stars"]
    assert table.rows[0]["text"] == 'Line one\nline "two"'


def test_tsv_extension_means_tabs(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "in.tsv", "sentence\tlabel\nok , fine\t1\n"))
    assert table.rows == [{"sentence": "ok , fine", "label": "1"}]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["id", "Comment", "date"], "Comment"),
        (["TWEET", "text"], "text"),
        (["id", "customer_review_body"], "customer_review_body"),
    ],
)
def test_text_column_by_name(tmp_path: Path, columns: list[str], expected: str) -> None:
    content = ",".join(columns) + "\n" + ",".join("x" for _ in columns) + "\n"
    assert detect_text_column(read_table(write(tmp_path / "in.csv", content))) == expected


def test_text_column_falls_back_to_the_longest(tmp_path: Path) -> None:
    content = "id,score,notes,code\n1,12345.678,a long note about it,ab\n2,3,another one,cd\n"
    assert detect_text_column(read_table(write(tmp_path / "in.csv", content))) == "notes"


def test_missing_column_lists_the_columns(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "in.csv", "id,body\n1,hi\n"))
    assert find_column(table, "BODY") == "body"
    with pytest.raises(InvalidInput, match="id, body"):
        find_column(table, "text")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="No such file"):
        read_table(tmp_path / "absent.csv")
    # Read as uploads are: a file that is not UTF-8 is decoded as Windows-1252.
    (tmp_path / "latin.csv").write_bytes("text\ncaf\xe9\n".encode("latin-1"))
    assert read_table(tmp_path / "latin.csv").rows == [{"text": "caf\xe9"}]
    with pytest.raises(InvalidInput, match="empty"):
        read_table(write(tmp_path / "empty.csv", ""))


def test_sst_trees_fold_root_labels(tmp_path: Path) -> None:
    trees = "(3 (2 It) (4 (4 rocks) (2 .)))\n(1 (2 -LRB-) (0 dull))\n(2 (2 Tuesday))\n"
    table = read_sst_trees(write(tmp_path / "test.txt", trees))
    assert table.rows == [
        {"sentence": "It rocks.", "label": "positive"},
        {"sentence": "(dull", "label": "negative"},
        {"sentence": "Tuesday", "label": "neutral"},
    ]
