"""Sentiment engine: load a classifier once, score texts, explain a score.

    from sentiment import load_model, predict, explain
    model = load_model("bundled")            # shared read-only by every request
    predict(model, ["Great value!", "Meh."])  # -> list[Prediction], input order

Names are imported on first use, so ``import sentiment.csvio`` (or the training
data readers) does not pull in torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiment.explanation import explain
    from sentiment.inference import Explanation, Prediction, predict
    from sentiment.labels import LABELS
    from sentiment.model import SentimentModel, available_cores, load_model

_EXPORTS = {
    "Explanation": "sentiment.inference",
    "Prediction": "sentiment.inference",
    "explain": "sentiment.explanation",
    "predict": "sentiment.inference",
    "LABELS": "sentiment.labels",
    "SentimentModel": "sentiment.model",
    "available_cores": "sentiment.model",
    "load_model": "sentiment.model",
}
__all__ = [
    "LABELS",
    "Explanation",
    "Prediction",
    "SentimentModel",
    "available_cores",
    "explain",
    "load_model",
    "predict",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sentiment' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
