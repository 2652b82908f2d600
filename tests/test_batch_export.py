"""The results CSV: formula-like cells are neutralised, and everything reads back unchanged."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from batch.export import DANGEROUS, ResultWriter, result_header, sanitize, unsanitize

any_text = st.text(st.characters(exclude_categories=["Cs"]))


@given(any_text)
def test_a_sanitised_cell_never_starts_like_a_formula(cell: str) -> None:
    assert not sanitize(cell).startswith(DANGEROUS)


@given(any_text)
def test_sanitising_is_undone_exactly(cell: str) -> None:
    assert unsanitize(sanitize(cell)) == cell


@given(st.lists(st.lists(any_text.filter(lambda s: "\x00" not in s), min_size=2, max_size=2)))
def test_rows_round_trip_through_a_csv_parser(rows: list[list[str]]) -> None:
    out = io.StringIO(newline="")
    writer = ResultWriter(out, ["id", "text"])
    for cells in rows:
        writer.write(cells, "positive", {"negative": 0.1, "neutral": 0.2, "positive": 0.7}, 0.7)
    parsed = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert parsed[0] == result_header(["id", "text"])
    assert [[unsanitize(c) for c in row[:2]] for row in parsed[1:]] == rows
    assert all(not c.startswith(DANGEROUS) for row in parsed for c in row)


def test_owasp_examples_are_neutralised() -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx"):
        assert sanitize(cell) == "'" + cell
    assert sanitize("'=1") == "''=1"  # so unsanitize knows this quote was the user's
    assert sanitize("plain text") == "plain text"


def test_our_columns_get_a_suffix_when_the_input_already_has_them() -> None:
    assert result_header(["label", "text"]) == [
        "label", "text", "label_2", "score", "negative", "neutral", "positive", "truncated",
        "language",
    ]  # fmt: skip
