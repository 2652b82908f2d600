"""The label column of an upload: which column, its values, and the map to the classes.

`plan` reads the label column of a file `inspect` accepted (one more pass, only when a
label column is named) and settles the map before anything is stored: the caller's map,
checked, or the one suggested for a known vocabulary. Every problem is an InvalidInput.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batch.evaluation import normal_value, parse_map, suggest_map
from batch.ingest import CsvInfo, Limits, iter_rows
from errors import InvalidInput

# Names that mark a label column, best first (matched ignoring case).
LABEL_COLUMN_NAMES = ("label", "sentiment", "gold", "polarity", "rating", "stars", "class")
VALUES_SHOWN = 12  # distinct values listed in a message or the preview


@dataclass(frozen=True)
class LabelPlan:
    column: str
    index: int
    label_map: dict[str, str]  # normal value -> class
    suggested: str | None  # the vocabulary name when the map was suggested
    values: dict[str, int]  # the most common label values (normal form) of rows with text

    def details(self) -> dict[str, Any]:
        """What the job keeps (JSON-ready)."""
        return {
            "label_column": self.column,
            "label_index": self.index,
            "label_map": self.label_map,
            "label_map_suggested": self.suggested,
        }

    @property
    def map_json(self) -> str:
        return json.dumps(self.label_map)


def find_column(columns: list[str], wanted: str) -> str:
    """The column called `wanted` (ignoring case), or InvalidInput listing the columns."""
    for name in columns:
        if name.lower() == wanted.strip().lower():
            return name
    raise InvalidInput(
        f"There is no label column {wanted!r}. The columns are: {', '.join(columns)}."
    )


def guess_column(columns: list[str], text_column: str) -> str | None:
    """A column whose name says it holds labels (for the preview), else None."""
    lower = {c.lower(): c for c in columns if c != text_column}
    for wanted in LABEL_COLUMN_NAMES:
        if wanted in lower:
            return lower[wanted]
    return None


def label_values(path: Path | str, info: CsvInfo, limits: Limits, index: int) -> Counter[str]:
    """How often each label value (normal form) occurs in the rows that have a text."""
    counts: Counter[str] = Counter()
    for row in iter_rows(path, info, limits):
        if row.text:
            counts[normal_value(row.cells[index])] += 1
    return counts


def plan(
    path: Path | str,
    info: CsvInfo,
    limits: Limits,
    label_column: str,
    label_map: str | dict[str, Any] | None = None,
) -> LabelPlan:
    """Check the label column and settle its map; InvalidInput when either is unusable.

    Without a map, one is suggested for a known vocabulary (0/1, -1/0/1, 1-5 stars,
    pos/neg, positive/negative/neutral); with one, at least one value must be in it
    (values it leaves out are counted as unmapped and left out of the evaluation).
    """
    column = find_column(info.columns, label_column)
    if column == info.text_column:
        raise InvalidInput(
            f"The label column {column!r} is also the text column; choose the column that "
            "holds your labels."
        )
    index = info.columns.index(column)
    counts = label_values(path, info, limits, index)
    present = {v: n for v, n in counts.items() if v}
    shown = ", ".join(repr(v) for v, _ in Counter(present).most_common(VALUES_SHOWN))
    if not present:
        raise InvalidInput(
            f"The label column {column!r} is empty in every row with a text; choose the "
            "column that holds your labels."
        )
    suggested = None
    if label_map is None or (isinstance(label_map, str) and not label_map.strip()):
        found = suggest_map(present)
        if found is None:
            raise InvalidInput(
                f"The labels in {column!r} ({shown}) are not a vocabulary we know; give a "
                'label_map such as {"good": "positive", "bad": "negative"}.'
            )
        suggested, mapping = found
    else:
        mapping = parse_map(label_map)
        if not set(present) & set(mapping):
            raise InvalidInput(
                f"No label in {column!r} is in label_map (the labels are: {shown}); map "
                "those values to negative, neutral or positive."
            )
    return LabelPlan(
        column=column,
        index=index,
        label_map=mapping,
        suggested=suggested,
        values=dict(Counter(present).most_common(VALUES_SHOWN)),
    )
