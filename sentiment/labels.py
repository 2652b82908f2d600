"""Map any classifier's own label names onto negative / neutral / positive.

A model's ``config.id2label`` is folded into a (num_labels x 3) 0/1 matrix, so that
``probs @ matrix`` gives the three canonical probabilities: a 2-label model leaves
neutral at 0, a 5-point scale folds "very negative" into negative, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from errors import ModelError

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = range(3)

# Names after lower-casing and collapsing separators ("Very_Negative" -> "very negative").
_NAMED: dict[str, int] = {
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "very negative": NEGATIVE,
    "strongly negative": NEGATIVE,
    "1 star": NEGATIVE,
    "2 stars": NEGATIVE,
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
    "mixed": NEUTRAL,
    "3 stars": NEUTRAL,
    "positive": POSITIVE,
    "pos": POSITIVE,
    "very positive": POSITIVE,
    "strongly positive": POSITIVE,
    "4 stars": POSITIVE,
    "5 stars": POSITIVE,
}

# Generic LABEL_i names: the conventions of SST-2 style (2) and cardiffnlp style (3) models;
# 5 labels are read as a 1-5 star scale.
_GENERIC: dict[int, tuple[int, ...]] = {
    2: (NEGATIVE, POSITIVE),
    3: (NEGATIVE, NEUTRAL, POSITIVE),
    5: (NEGATIVE, NEGATIVE, NEUTRAL, POSITIVE, POSITIVE),
}


@dataclass(frozen=True)
class LabelMap:
    """Which canonical label each model output index stands for."""

    targets: tuple[int, ...]  # targets[i] = canonical index of model output i

    @property
    def matrix(self) -> np.ndarray:
        m = np.zeros((len(self.targets), len(LABELS)), dtype=np.float32)
        m[np.arange(len(self.targets)), self.targets] = 1.0
        return m

    @property
    def has_neutral(self) -> bool:
        return NEUTRAL in self.targets

    @property
    def neutral_output(self) -> int | None:
        """The model output that means neutral, if one does."""
        return self.targets.index(NEUTRAL) if NEUTRAL in self.targets else None

    def fold(self, probs: np.ndarray) -> np.ndarray:
        """(n, num_labels) model probabilities -> (n, 3) canonical probabilities."""
        if probs.shape[-1] != len(self.targets):
            raise ModelError(
                f"The model returned {probs.shape[-1]} scores but its label map has "
                f"{len(self.targets)} labels; check the model's config.json."
            )
        return probs @ self.matrix


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(name).strip().lower())


def map_labels(id2label: Mapping[int, str] | Mapping[str, str]) -> LabelMap:
    """Build the label map from a transformers ``config.id2label``.

    Raises ModelError naming the labels when the scheme cannot be mapped, e.g. emotion
    labels, or a map that never yields both a negative and a positive class.
    """
    items = sorted((int(k), str(v)) for k, v in id2label.items())
    if not items or [k for k, _ in items] != list(range(len(items))):
        raise ModelError(f"The model's id2label is not a 0..n-1 mapping: {dict(items)!r}.")
    names = [v for _, v in items]
    described = ", ".join(names)

    generic = [re.fullmatch(r"label (\d+)", _normalise(n)) for n in names]
    if all(generic):
        indices = [int(m.group(1)) for m in generic if m]
        if indices != list(range(len(names))) or len(names) not in _GENERIC:
            raise ModelError(
                f"Cannot map the model's generic labels ({described}) to "
                "negative/neutral/positive: only 2, 3 or 5 LABEL_i outputs are understood."
            )
        return LabelMap(_GENERIC[len(names)])

    targets = []
    for name in names:
        target = _NAMED.get(_normalise(name))
        if target is None:
            raise ModelError(
                f"Cannot map the model's labels ({described}) to negative/neutral/positive: "
                f"'{name}' is not a sentiment label. Choose a sentiment classifier, "
                "or SENTIMENT_MODEL=bundled."
            )
        targets.append(target)
    if NEGATIVE not in targets or POSITIVE not in targets:
        raise ModelError(
            f"The model's labels ({described}) lack a negative or a positive class; "
            "a sentiment model needs both."
        )
    return LabelMap(tuple(targets))
