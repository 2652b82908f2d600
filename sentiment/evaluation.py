"""Accuracy, macro-F1 and a per-class report against gold labels.

Binary gold sets (no neutral) are scored by comparing the negative and positive
probabilities, as SST-2 and Blitzer figures are usually reported; 3-class sets by argmax.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from errors import InvalidInput
from sentiment.calibration import ECE_BINS, expected_calibration_error
from sentiment.inference import probabilities, validate
from sentiment.labels import LABELS, NEGATIVE, NEUTRAL, POSITIVE
from sentiment.model import SentimentModel

_WORDS = {
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
    "positive": POSITIVE,
    "pos": POSITIVE,
}


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    rows: int
    binary: bool
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    confusion: list[list[int]]  # gold rows x predicted columns, over per_class's labels
    # Top-class expected calibration error (sentiment.calibration), when probabilities
    # were at hand: binary sets use the negative-vs-positive probability.
    ece: float | None = None

    @property
    def macro_recall(self) -> float:
        """Mean of the per-class recalls (SemEval's headline figure)."""
        return float(np.mean([s.recall for s in self.per_class.values()]))


def parse_gold(values: Sequence[str]) -> tuple[list[int], bool]:
    """Gold labels as canonical indices, and whether the set is binary.

    Words (negative/neutral/positive, neg/neu/pos, any case) or numbers: 0/1 is
    negative/positive, 0/1/2 negative/neutral/positive, -1/0/1 likewise.
    """
    cleaned = [str(v).strip().lower() for v in values]
    if all(re.fullmatch(r"-?\d+(\.0)?", v) for v in cleaned):
        numbers = [int(float(v)) for v in cleaned]
        present = set(numbers)
        if present <= {0, 1}:
            scheme = {0: NEGATIVE, 1: POSITIVE}
        elif present <= {0, 1, 2}:
            scheme = {0: NEGATIVE, 1: NEUTRAL, 2: POSITIVE}
        elif present <= {-1, 0, 1}:
            scheme = {-1: NEGATIVE, 0: NEUTRAL, 1: POSITIVE}
        else:
            raise InvalidInput(f"Numeric labels {sorted(present)} are not 0/1, 0/1/2 or -1/0/1.")
        gold = [scheme[n] for n in numbers]
    else:
        unknown = sorted({v for v in cleaned if v not in _WORDS})
        if unknown:
            raise InvalidInput(
                f"Unknown labels {unknown[:5]}; use negative/neutral/positive or 0/1/2."
            )
        gold = [_WORDS[v] for v in cleaned]
    return gold, NEUTRAL not in gold


def score(gold: Sequence[int], predicted: Sequence[int], classes: Sequence[int]) -> Report:
    """Pure metrics over canonical label indices."""
    index = {c: i for i, c in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for g, p in zip(gold, predicted, strict=True):
        if p in index:
            confusion[index[g], index[p]] += 1
    per_class = {}
    for c, i in index.items():
        tp = int(confusion[i, i])
        predicted_c = sum(1 for p in predicted if p == c)
        support = int(confusion[i].sum())
        precision = tp / predicted_c if predicted_c else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[LABELS[c]] = ClassScores(precision, recall, f1, support)
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    return Report(
        rows=len(gold),
        binary=NEUTRAL not in classes,
        accuracy=correct / len(gold) if gold else 0.0,
        macro_f1=float(np.mean([s.f1 for s in per_class.values()])),
        per_class=per_class,
        confusion=confusion.tolist(),
    )


def evaluate(
    model: SentimentModel,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    max_chars: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    if not texts:
        raise InvalidInput("There are no rows to evaluate.")
    gold, binary = parse_gold(labels)
    probs, _ = probabilities(model, validate(texts, max_chars), progress=progress)
    if binary:
        predicted = np.where(probs[:, POSITIVE] > probs[:, NEGATIVE], POSITIVE, NEGATIVE)
        polar = probs[:, [NEGATIVE, POSITIVE]]
        confidence = polar.max(axis=1) / np.clip(polar.sum(axis=1), 1e-12, None)
        classes = [NEGATIVE, POSITIVE]
    else:
        predicted = probs.argmax(axis=1)
        confidence = probs.max(axis=1)
        classes = [NEGATIVE, NEUTRAL, POSITIVE]
    correct = predicted == np.asarray(gold)
    ece = expected_calibration_error(confidence, correct)
    return replace(score(gold, predicted.tolist(), classes), ece=ece)


def format_report(report: Report) -> str:
    kind = "binary: negative vs positive probability" if report.binary else "3-class"
    lines = [
        f"rows      {report.rows:,} ({kind})",
        f"accuracy  {report.accuracy:.2%}",
        f"macro-F1  {report.macro_f1:.2%}",
        f"macro-recall {report.macro_recall:.2%}",
        *(
            [f"ECE       {report.ece:.2%} (top class, {ECE_BINS} bins)"]
            if report.ece is not None
            else []
        ),
        "",
        f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
    ]
    for name, s in report.per_class.items():
        lines.append(
            f"{name:<10}{s.precision:>10.2%}{s.recall:>10.2%}{s.f1:>10.2%}{s.support:>10,}"
        )
    names = list(report.per_class)
    lines += [
        "",
        "confusion (rows: gold, columns: predicted)",
        " " * 10 + "".join(f"{n:>10}" for n in names),
    ]
    for name, counts in zip(names, report.confusion, strict=True):
        lines.append(f"{name:<10}" + "".join(f"{c:>10,}" for c in counts))
    return "\n".join(lines)
