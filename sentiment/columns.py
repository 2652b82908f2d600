"""Which columns of a table hold texts: shared by uploads (batch.ingest) and the CLI.

A column whose values are mostly numbers (ids, prices, ratings, dates) is never a text
column, whatever its name: scoring "3" or "2024-05-01" as a text says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# 12, -3.5, 1,234.00, 1 234, $5, 12%, (7), 1e-3, 2024-05-01, 12/03/2024, 10:30
_NUMBER = re.compile(r"[-+(]?[$€£¥]?\d[\d.,'\s/:-]*(?:[eE][-+]?\d+)?%?\)?")


def is_number(value: str) -> bool:
    """True for a number, amount, percentage or date written with digits."""
    return _NUMBER.fullmatch(value.strip()) is not None


def holds_text(values: Iterable[str]) -> bool:
    """True when most non-empty values are not numbers (and there is at least one)."""
    cells = [v for v in values if v.strip()]
    words = sum(not is_number(v) for v in cells)
    return words * 2 > len(cells)


def text_columns(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The columns, in order, whose values in `rows` (cells by position) hold text."""
    return [
        name for i, name in enumerate(columns) if holds_text(row[i] for row in rows if i < len(row))
    ]


def no_text_message(columns: Sequence[str]) -> str:
    return (
        f"No column holds text: {', '.join(columns)}. Every column holds numbers (or is "
        "empty); add a column with the texts to score."
    )
