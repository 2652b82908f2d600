"""python -m sentiment score / evaluate on Excel and TSV files: the uploads' reader."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from sentiment.cli import main
from tests.test_tabular import FORMULA_LIKE, workbook

TORCH = ["--backend", "torch"]


def test_score_reads_a_chosen_sheet_and_writes_xlsx_without_formulas(
    tmp_path: Path, three_label_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = workbook(
        tmp_path / "in.xlsx",
        {"Notes": [["note"], ["not this one"]],
         "Reviews": [["id", "review"], *([i, t] for i, t in enumerate(FORMULA_LIKE, 1))]},
    )  # fmt: skip
    out = tmp_path / "out.xlsx"
    args = ["score", str(source), "-o", str(out), "--sheet", "Reviews"]
    assert main([*args, "--model", str(three_label_dir), *TORCH]) == 0
    sheet = openpyxl.load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == [
        "id", "review", "label", "score", "negative", "neutral", "positive",
    ]  # fmt: skip
    assert [row[1].value for row in rows[1:]] == FORMULA_LIKE
    assert all(row[1].data_type == "s" for row in rows[1:])  # text, never a formula
    assert all(row[2].value in {"negative", "neutral", "positive"} for row in rows[1:])
    assert "rows/s" in capsys.readouterr().out


def test_score_names_a_missing_sheet(
    tmp_path: Path, three_label_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = workbook(tmp_path / "in.xlsx", {"Only": [["text"], ["fine"]]})
    args = ["score", str(source), "-o", str(tmp_path / "o.csv"), "--sheet", "Nope"]
    assert main([*args, "--model", str(three_label_dir), *TORCH]) == 2
    assert "The workbook has no sheet 'Nope'. Its sheets are: Only." in capsys.readouterr().err


def test_score_tsv_guesses_the_text_column_as_uploads_do(
    tmp_path: Path, three_label_dir: Path
) -> None:
    source = tmp_path / "in.tsv"
    # "title" has the longer texts, but "post" is one of the uploads' text-column names.
    content = "id\ttitle\tpost\n1\tA long title about the value\tgreat value\n"
    source.write_text(content + "2\tAnother long title, this one\tnever again\n", "utf-8")
    out = tmp_path / "out.csv"
    assert (
        main(["score", str(source), "-o", str(out), "--model", str(three_label_dir), *TORCH]) == 0
    )
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["post"] for r in rows] == ["great value", "never again"]  # "post": uploads' name
    assert all(r["label"] for r in rows)


def test_evaluate_reads_a_workbook(
    tmp_path: Path, three_label_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["sentence", "label"], ["the food was great", 2], ["awful", 0], ["on tuesday", 1]]
    source = workbook(tmp_path / "dev.xlsx", {"Dev": rows})
    args = ["evaluate", str(source), "--label-column", "label", "--model", str(three_label_dir)]
    assert main([*args, *TORCH]) == 0
    assert "accuracy" in capsys.readouterr().out
