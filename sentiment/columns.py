"""Columns of a table: unique names, which hold texts, the text column guessed or chosen.

Shared by uploads and the CLI (both read through sentiment.tabular).

A column whose values are mostly numbers (ids, prices, ratings, dates) or booleans is
never a text column, whatever its name: scoring "3" or "2024-05-01" as a text says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from errors import CsvFormatError

# 12, -3.5, 1,234.00, 1 234, $5, 12%, (7), 1e-3, 2024-05-01, 12/03/2024, 10:30
_NUMBER = re.compile(r"[-+(]?[$€£¥]?\d[\d.,'\s/:-]*(?:[eE][-+]?\d+)?%?\)?")


def is_number(value: str) -> bool:
    """True for a number, amount, percentage or date written with digits."""
    return _NUMBER.fullmatch(value.strip()) is not None


def is_flag(value: str) -> bool:
    """TRUE or FALSE: how Excel shows a boolean cell (and how many exports write one)."""
    return value.strip().lower() in ("true", "false")


def holds_text(values: Iterable[str]) -> bool:
    """True when most non-empty values are neither numbers nor TRUE/FALSE (and there is at
    least one)."""
    cells = [v for v in values if v.strip()]
    words = sum(not (is_number(v) or is_flag(v)) for v in cells)
    return words * 2 > len(cells)


def text_columns(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The columns, in order, whose values in `rows` (cells by position) hold text."""
    return [
        name for i, name in enumerate(columns) if holds_text(row[i] for row in rows if i < len(row))
    ]


def no_text_message(columns: Sequence[str]) -> str:
    return (
        f"No column holds text: {', '.join(columns)}. Every column holds numbers, dates or "
        "TRUE/FALSE (or is empty); add a column with the texts to score."
    )


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
    "review_text",
    "description",
    "post",
)


def unique_names(header: Sequence[str]) -> list[str]:
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
    return re.sub(r"[\W_]+", "_", name.strip().lower()).strip("_")


def detect_text_column(columns: Sequence[str], sample: Sequence[Sequence[str]]) -> str:
    """By name (text, review, comment, ...), else the column with the longest texts.

    Only columns that hold text count: one of mostly numbers is never guessed, and a table
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
        i = list(columns).index(name)
        cells = [r[i].strip() for r in sample if i < len(r) and r[i].strip()]
        return sum(map(len, cells)) / len(cells) if cells else 0.0

    return max(candidates, key=mean_length)


def choose_column(columns: Sequence[str], wanted: str) -> str:
    """The column called `wanted` (case-insensitive), or CsvFormatError listing them.

    The user's choice stands even when the column holds only numbers."""
    for name in columns:
        if name == wanted.strip() or name.lower() == wanted.strip().lower():
            return name
    raise CsvFormatError(
        f"There is no column {wanted!r}. The columns are: {', '.join(columns)}.",
        column=wanted,
    )
