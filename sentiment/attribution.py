"""Word weights from random occlusions, fitted on the predicted label's log-odds.

Removing one word from a confident text barely moves its probability (0.993 -> 0.992),
and when two words carry the sentiment ("lovely ... wonderful") removing either alone
changes little. So the text is scored with random halves of its words removed, and a
small ridge regression of the predicted label's log-odds on which words were kept gives
each word's weight (the idea of LIME and KernelSHAP). Log-odds do not saturate, and
variants that drop both sentiment words credit each of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIDGE = 1.0  # keeps weights finite when a few variants cannot tell two groups apart
_KEEP = 0.5  # each random variant keeps each word group with this probability
_FLOOR = 1e-12


def max_groups(max_variants: int) -> int:
    """How many word groups `max_variants` scored texts can weigh (a third of them)."""
    return max(1, (max_variants - 1) // 3)


def masks(groups: int, max_variants: int, seed: int = 0) -> np.ndarray:
    """(variants, groups) booleans, True = kept: the whole text, each group left out
    alone, then random halves; the fixed seed makes a text's weights reproducible."""
    whole = np.ones((1, groups), dtype=bool)
    left_out = ~np.eye(groups, dtype=bool)
    extra = max(0, max_variants - 1 - groups)
    random = np.random.default_rng(seed).random((extra, groups)) < _KEEP
    return np.vstack([whole, left_out, random])


def occlude(text: str, groups: list[list[tuple[int, int]]], kept: np.ndarray) -> str:
    """`text` without the (start, end) word spans of the groups not kept."""
    dropped = sorted(
        span for group, keep in zip(groups, kept, strict=True) if not keep for span in group
    )
    parts, cursor = [], 0
    for start, end in dropped:
        parts.append(text[cursor:start])
        cursor = end
    return "".join(parts) + text[cursor:]


def log_odds(probs: np.ndarray, label: int) -> np.ndarray:
    """log(p / (1 - p)) of `label` per row, with 1 - p summed from the other classes so
    that a probability of 0.9999999 in float32 still has finite, exact odds."""
    p = probs.astype(np.float64)
    others = p.sum(axis=-1) - p[:, label]
    return np.log(np.maximum(p[:, label], _FLOOR)) - np.log(np.maximum(others, _FLOOR))


def fit(kept: np.ndarray, target: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Per-group weights: ridge regression of `target` on `kept`, intercept unpenalised."""
    rows, groups = kept.shape
    x = np.hstack([kept.astype(np.float64), np.ones((rows, 1))])
    penalty = ridge * np.eye(groups + 1)
    penalty[-1, -1] = 0.0
    coef = np.linalg.solve(x.T @ x + penalty, x.T @ target)
    return np.asarray(coef[:-1])


@dataclass(frozen=True)
class WordWeight:
    word: str
    start: int  # character offsets into the text: text[start:end] == word
    end: int
    weight: float  # > 0 raises the predicted label's log-odds, < 0 lowers them


def word_weights(spans: list[tuple[str, float]]) -> list[WordWeight]:
    """The words of an explanation's spans (whitespace left out), with their offsets."""
    words, cursor = [], 0
    for segment, weight in spans:
        if segment.strip():
            words.append(WordWeight(segment, cursor, cursor + len(segment), round(weight, 4)))
        cursor += len(segment)
    return words
