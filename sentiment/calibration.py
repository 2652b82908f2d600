"""What the model's confidence means: a neutral margin and a temperature, chosen on dev sets.

The classifier's raw logits go through ``(logits + neutral_bias on the neutral output) /
temperature`` before the softmax (sentiment.inference.forward). The margin moves the
line between neutral and polar predictions (the raw model calls too little neutral); it
never changes which of negative and positive is more likely, so binary figures (SST-2,
reviews) stay exactly as they were. The temperature changes no prediction at all, only
how sure it says it is: fitted so that "80% sure" is right about 80% of the time.

Both live in the model's config.json under ``sentiscope_calibration``; a model without
them (any hub model) is used as it is. ``python -m sentiment calibrate``
(sentiment/calibrate.py) fits them on the dev sets (never a test set) and writes them
into the bundled model's config.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

CONFIG_KEY = "sentiscope_calibration"
ECE_BINS = 15


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


def from_config(found: Any) -> Calibration:
    """The calibration under a config's CONFIG_KEY (None or anything unusable: none)."""
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


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Top-class ECE: the gap between confidence and accuracy, averaged over equal-width
    confidence bins weighted by how many predictions fall in each."""
    return float(
        sum(
            n / len(confidence) * abs(accuracy - mean)
            for _, n, mean, accuracy in reliability(confidence, correct, bins)
        )
    )
