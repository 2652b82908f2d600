"""Evaluate a batch against the user's own labels: the label vocabularies we recognise,
the label map (value -> class), and the metrics. Pure: no files, no database.

Label values are compared after `normal_value` (trimmed, case-folded, `4.0` read as `4`),
so `POS`, ` pos` and `pos` are one value and a map written for one matches them all.

Gold labels with two classes (the map names only negative and positive) are compared
with the model's three-class predictions as they are: a neutral prediction counts as
wrong, and `neutral_predictions` says how many there were.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from errors import InvalidInput
from storage.models import LABELS

NEGATIVE, NEUTRAL, POSITIVE = LABELS
UNMAPPED_SHOWN = 20  # distinct unmapped values listed in the evaluation; the rest counted
TWO_CLASS_NOTE = (
    "The gold labels have two classes (negative, positive): the model's three-class "
    "predictions are kept, so neutral predictions count as wrong."
)

_NUMBER = re.compile(r"[+-]?\d+(?:\.0*)?")
_WORDS = {
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
    "positive": POSITIVE,
    "pos": POSITIVE,
}
# Numeric vocabularies, tried in this order; the first that holds every value wins.
_SCHEMES: tuple[tuple[str, dict[str, str]], ...] = (
    ("0/1", {"0": NEGATIVE, "1": POSITIVE}),
    ("-1/0/1", {"-1": NEGATIVE, "0": NEUTRAL, "1": POSITIVE}),
    ("0/1/2", {"0": NEGATIVE, "1": NEUTRAL, "2": POSITIVE}),
    ("1-5 stars", {"1": NEGATIVE, "2": NEGATIVE, "3": NEUTRAL, "4": POSITIVE, "5": POSITIVE}),
)


def normal_value(cell: str) -> str:
    """The form a label value is compared in: trimmed, case-folded, whole numbers plain."""
    value = cell.strip().casefold()
    if _NUMBER.fullmatch(value):
        return str(int(float(value)))
    return value


def suggest_map(values: Iterable[str]) -> tuple[str, dict[str, str]] | None:
    """(vocabulary name, map) for values of a known vocabulary, else None.

    The map names only the values present, so `-1/1` gives a two-class map.
    """
    present = {normal_value(v) for v in values} - {""}
    if not present:
        return None
    if present <= set(_WORDS):
        return "words", {v: _WORDS[v] for v in sorted(present, key=_word_order)}
    for name, scheme in _SCHEMES:
        if present <= set(scheme):
            return name, {v: c for v, c in scheme.items() if v in present}
    return None


def _word_order(value: str) -> tuple[int, str]:
    return LABELS.index(_WORDS[value]), value


def parse_map(given: str | Mapping[str, Any]) -> dict[str, str]:
    """A label map from JSON text (or a mapping): normal values -> class names.

    Raises InvalidInput naming what is wrong: not JSON, not an object, empty, a class
    that is not negative/neutral/positive, or one value mapped to two classes.
    """
    example = '{"0": "negative", "1": "positive"}'
    if isinstance(given, str):
        try:
            given = json.loads(given)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"label_map is not valid JSON ({exc.msg}). Write an object such as {example}."
            ) from None
    if not isinstance(given, Mapping) or not given:
        raise InvalidInput(
            f"label_map must be a JSON object from label values to classes, e.g. {example}."
        )
    found: dict[str, str] = {}
    for raw, cls in given.items():
        value = normal_value(str(raw))
        name = cls.strip().lower() if isinstance(cls, str) else None
        if name not in LABELS:
            raise InvalidInput(
                f"label_map maps {raw!r} to {cls!r}, which is not a class; use one of "
                f"{', '.join(LABELS)}."
            )
        if not value:
            raise InvalidInput("label_map has an empty label value; leave it out.")
        if found.get(value, name) != name:
            raise InvalidInput(
                f"label_map maps {raw!r} to both {found[value]} and {name} "
                "(values are compared ignoring case and spaces)."
            )
        found[value] = name
    return found


def classes_of(label_map: Mapping[str, str]) -> list[str]:
    """The gold classes a map uses, in the model's order."""
    used = set(label_map.values())
    return [label for label in LABELS if label in used]


class Evaluator:
    """Counts gold against predicted labels one row at a time; `result()` the metrics."""

    def __init__(self, label_map: Mapping[str, str]) -> None:
        self.label_map = dict(label_map)
        self.classes = classes_of(label_map)
        self.confusion = {g: dict.fromkeys(LABELS, 0) for g in self.classes}
        self.empty = 0
        self.unmapped: Counter[str] = Counter()

    def add(self, cell: str, predicted: str) -> str | None:
        """Count one row; its gold class, or None when its label is empty or unmapped."""
        value = normal_value(cell)
        if not value:
            self.empty += 1
            return None
        gold = self.label_map.get(value)
        if gold is None:
            self.unmapped[value] += 1
            return None
        self.confusion[gold][predicted] += 1
        return gold

    def result(self) -> dict[str, Any]:
        return evaluation(self.confusion, empty=self.empty, unmapped=self.unmapped)


def evaluation(
    confusion: Mapping[str, Mapping[str, int]],
    *,
    empty: int = 0,
    unmapped: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The evaluation dict from a confusion table {gold: {predicted: count}}.

    Per-class figures are over the gold classes; precision divides by the predictions
    of that class among the evaluated rows. Fractions are None when no row was evaluated.
    """
    classes = list(confusion)
    n = sum(sum(row.values()) for row in confusion.values())
    per_class: dict[str, dict[str, Any]] = {}
    for c in classes:
        tp = confusion[c].get(c, 0)
        support = sum(confusion[c].values())
        predicted = sum(row.get(c, 0) for row in confusion.values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    correct = sum(confusion[c].get(c, 0) for c in classes)
    unmapped = dict(unmapped or {})
    found: dict[str, Any] = {
        "n": n,
        "accuracy": correct / n if n else None,
        "macro_f1": (sum(s["f1"] for s in per_class.values()) / len(classes)) if n else None,
        "per_class": per_class,
        "confusion": {g: dict(row) for g, row in confusion.items()},
        "classes": classes,
        "two_class": NEUTRAL not in classes,
        "empty_labels": empty,
        "unmapped_labels": sum(unmapped.values()),
        "unmapped_values": dict(Counter(unmapped).most_common(UNMAPPED_SHOWN)),
    }
    if NEUTRAL not in classes:
        found["neutral_predictions"] = sum(row.get(NEUTRAL, 0) for row in confusion.values())
        found["note"] = TWO_CLASS_NOTE
    return found


def summary(found: Mapping[str, Any]) -> str:
    """One line: `120 rows: accuracy 81.7%, macro-F1 79.0% (3 with an empty label ...)`."""
    if not found.get("n"):
        head = "No row had a mapped label, so there is nothing to evaluate"
    else:
        head = (
            f"{found['n']:,} labelled rows: accuracy {found['accuracy']:.1%}, "
            f"macro-F1 {found['macro_f1']:.1%}"
        )
    left = []
    if found.get("empty_labels"):
        left.append(f"{found['empty_labels']:,} with an empty label")
    if found.get("unmapped_labels"):
        shown = ", ".join(map(repr, list(found.get("unmapped_values") or {})[:5]))
        left.append(f"{found['unmapped_labels']:,} with a label not in the map ({shown})")
    tail = f"; left out: {' and '.join(left)}" if left else ""
    note = f" {found['note']}" if found.get("note") else ""
    count = found.get("neutral_predictions") or 0
    neutral = f" ({count:,} neutral prediction{'s' if count != 1 else ''})" if count else ""
    return f"{head}{tail}.{note}{neutral}"
