"""Column names of an uploaded file: made unique, the text column detected or chosen."""

from __future__ import annotations

import re

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
