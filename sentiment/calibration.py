"""What the model's confidence means: a neutral margin and a temperature, chosen on dev sets.

The classifier's raw logits go through ``(logits + neutral_bias on the neutral output) /
temperature`` before the softmax (sentiment.inference.forward). The margin moves the
line between neutral and polar predictions (the raw model calls too little neutral); it
never changes which of negative and positive is more likely, so binary figures (SST-2,
reviews) stay exactly as they were. The temperature changes no prediction at all, only
how sure it says it is: fitted so that "80% sure" is right about 80% of the time.

Both live in the model's config.json under ``sentiscope_calibration``; a model without
them (any hub model) is used as it is. ``python -m sentiment calibrate`` fits them on
the dev sets (never a test set) and writes them into the bundled model's config.json.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

CONFIG_KEY = "sentiscope_calibration"
ECE_BINS = 15
# Margins tried (added to the neutral logit), and temperatures.
MARGINS = np.round(np.arange(-1.0, 3.01, 0.05), 2)
TEMPERATURES = np.round(np.exp(np.linspace(np.log(0.4), np.log(4.0), 181)), 4)


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    neutral_bias: float = 0.0

    @property
    def identity(self) -> bool:
        return self.temperature == 1.0 and self.neutral_bias == 0.0

    def apply(self, logits: np.ndarray, neutral: int | None) -> np.ndarray:
        """Calibrated logits; `neutral` is the model output that means neutral (None: none)."""
        if self.identity:
            return logits
        shifted = logits.astype(np.float32, copy=True)
        if neutral is not None:
            shifted[..., neutral] += self.neutral_bias
        return shifted / np.float32(self.temperature)

    def to_config(self) -> dict[str, float]:
        return asdict(self)


def from_config(config: Any) -> Calibration:
    """The calibration a model's config carries (a dict or a transformers config)."""
    found = config.get(CONFIG_KEY) if isinstance(config, Mapping) else None
    if found is None:
        found = getattr(getattr(config, "config", config), CONFIG_KEY, None)
    if not isinstance(found, Mapping):
        return Calibration()
    temperature = float(found.get("temperature", 1.0))
    bias = float(found.get("neutral_bias", 0.0))
    if not (np.isfinite(temperature) and temperature > 0 and np.isfinite(bias)):
        return Calibration()
    return Calibration(temperature, bias)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=-1, keepdims=True))


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Top-class ECE: the gap between confidence and accuracy, averaged over equal-width
    confidence bins weighted by how many predictions fall in each."""
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            gap = abs(float(correct[chosen].mean()) - float(confidence[chosen].mean()))
            total += gap * int(chosen.sum()) / len(confidence)
    return total


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> list[tuple[str, int, float, float]]:
    """(confidence range, rows, mean confidence, accuracy) per bin with rows in it."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    out = []
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            span = f"{edges[b]:.1f}-{edges[b + 1]:.1f}"
            out.append(
                (
                    span,
                    int(chosen.sum()),
                    float(confidence[chosen].mean()),
                    float(correct[chosen].mean()),
                )
            )
    return out


def macro_recall(gold: np.ndarray, predicted: np.ndarray, classes: Sequence[int]) -> float:
    recalls = [float((predicted[gold == c] == c).mean()) for c in classes if (gold == c).any()]
    return float(np.mean(recalls)) if recalls else 0.0


def _macro_f1(gold: np.ndarray, predicted: np.ndarray, classes: Sequence[int]) -> float:
    scores = []
    for c in classes:
        tp = float(((predicted == c) & (gold == c)).sum())
        guessed, actual = float((predicted == c).sum()), float((gold == c).sum())
        precision = tp / guessed if guessed else 0.0
        recall = tp / actual if actual else 0.0
        scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return float(np.mean(scores))


@dataclass(frozen=True)
class DevSet:
    """Raw three-class logits of one dev set (canonical order) and its gold labels."""

    name: str
    logits: np.ndarray
    gold: np.ndarray


def margin_score(sets: Sequence[DevSet], margin: float, neutral: int = 1) -> float:
    """The selection rule: the mean over the dev sets of macro-recall and macro-F1."""
    figures = []
    for dev in sets:
        predicted = Calibration(1.0, margin).apply(dev.logits, neutral).argmax(axis=1)
        classes = sorted(set(dev.gold.tolist()))
        figures.append(macro_recall(dev.gold, predicted, classes))
        figures.append(_macro_f1(dev.gold, predicted, classes))
    return float(np.mean(figures))


def fit(sets: Sequence[DevSet], neutral: int = 1) -> Calibration:
    """The margin that maximises `margin_score` (the smallest of ties), then the
    temperature with the least negative log-likelihood over every dev row pooled."""
    scores = [margin_score(sets, float(m), neutral) for m in MARGINS]
    margin = float(MARGINS[int(np.argmax(scores))])
    logits = np.concatenate([d.logits for d in sets])
    gold = np.concatenate([d.gold for d in sets])
    shifted = Calibration(1.0, margin).apply(logits, neutral)

    def nll(temperature: float) -> float:
        probs = softmax(shifted / temperature)
        return float(-np.log(np.clip(probs[np.arange(len(gold)), gold], 1e-12, None)).mean())

    temperature = float(min(TEMPERATURES, key=nll))
    return Calibration(round(temperature, 4), margin)
