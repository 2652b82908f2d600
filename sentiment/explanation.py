"""Word weights for a prediction: occlusion variants scored in one batched pass, fitted on
the predicted label's log-odds (sentiment.attribution).

A short text is occluded whole. A longer one (several sentences, over LOCAL_WORDS
words) is occluded sentence by sentence: each sentence's variants are that sentence
alone with some of its words removed, and its words are weighed by how they move *that
sentence's* log-odds of the text's predicted label. The variants are then ~20 tokens
instead of the whole review's ~120, so the same number of variants (the same words per
group) costs several times less, and a word is judged in the sentence it belongs to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from sentiment import attribution
from sentiment.inference import (
    DEFAULT_MAX_CHARS,
    TOKENIZING,
    Explanation,
    postprocess,
    preprocess,
    probabilities,
    validate,
)
from sentiment.labels import LABELS
from sentiment.model import SentimentModel
from sentiment.sentences import split

# Words for explain(): runs of word characters (with inner apostrophes), or punctuation.
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]+")
LOCAL_WORDS = 40  # texts with more words than this (and 2+ sentences) go sentence-local
_MIN_VARIANTS = 4  # per sentence

Span = tuple[int, int]
# Scores texts: (n, 3) probabilities and truncation flags (inference.probabilities' shape).
Scorer = Callable[[Sequence[str]], tuple[np.ndarray, list[bool]]]


def explain(
    model: SentimentModel,
    text: str,
    *,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    max_variants: int = 128,
    score: Scorer | None = None,
) -> Explanation:
    """Per-word contributions to the predicted label, by occlusion (one batched pass).

    At most about ``max_variants`` variants are scored; when a piece has more words than
    its variants can weigh, neighbouring words are occluded together and share a weight.
    `score` runs the variants (default: the model directly; a server passes its
    scheduler's `probabilities`, so that explanations share the inference loop).
    """
    (text,) = validate([text], max_chars)
    words = _seen_words(model, text)
    pieces = _pieces(text, words)
    local = len(pieces) > 1
    budget = max_variants - 1 if local else max_variants
    plans = [_plan(text, piece, budget, len(words)) for piece in pieces]
    variants = [text] if local else []
    for *_, texts in plans:
        variants.extend(texts)
    probs, truncated = (score or (lambda texts: probabilities(model, texts)))(variants)
    (prediction,) = postprocess(model, probs[:1], truncated[:1])
    best = LABELS.index(prediction.label)
    weight_of: dict[int, float] = {}
    at = 1 if local else 0
    for groups, kept, _ in plans:
        rows = probs[at : at + len(kept)]
        at += len(kept)
        weights = attribution.fit(kept, attribution.log_odds(rows, best))
        for group, weight in zip(groups, weights, strict=True):
            for start, _end in group:
                weight_of[start] = float(weight)
    return Explanation(prediction=prediction, spans=_spans(text, weight_of))


def _seen_words(model: SentimentModel, text: str) -> list[Span]:
    """(start, end) of each word the model reads (words past its window contribute
    nothing)."""
    words = [m.span() for m in _WORD.finditer(text)]
    if preprocess(model, [text]).truncated[0]:
        with TOKENIZING:
            offsets = model.tokenizer(
                text, truncation=True, max_length=model.max_length, return_offsets_mapping=True
            )["offset_mapping"]
        seen_until = max(end for _, end in offsets)
        words = [w for w in words if w[0] < seen_until]
    return words


Piece = tuple[int, int, list[Span]]  # start, end, the words in it


def _pieces(text: str, words: list[Span]) -> list[Piece]:
    """Each piece occluded on its own: the whole text, or each sentence with words in it
    when the text is long enough to be worth it."""
    whole = [(0, len(text), words)]
    if len(words) <= LOCAL_WORDS:
        return whole
    pieces = []
    for sentence in split(text):
        inside = [w for w in words if sentence.start <= w[0] < sentence.end]
        if inside:
            pieces.append((sentence.start, sentence.end, inside))
    return pieces if len(pieces) > 1 else whole


def _plan(
    text: str, piece: Piece, budget: int, total_words: int
) -> tuple[list[list[Span]], np.ndarray, list[str]]:
    """The word groups of one piece, which of them each variant keeps, and the variants'
    texts (the piece alone)."""
    offset, end, words = piece
    variants = budget
    if len(words) < total_words:  # one sentence of several: its share of the variants
        variants = max(_MIN_VARIANTS, round(budget * len(words) / total_words))
    local = [(s - offset, e - offset) for s, e in words]
    size = max(1, math.ceil(len(local) / attribution.max_groups(variants)))
    groups = [local[i : i + size] for i in range(0, len(local), size)]
    kept = attribution.masks(len(groups), variants)
    texts = [attribution.occlude(text[offset:end], groups, row) for row in kept]
    absolute = [[(s + offset, e + offset) for s, e in group] for group in groups]
    return absolute, kept, texts


def _spans(text: str, weight_of: dict[int, float]) -> list[tuple[str, float]]:
    """(segment, weight) covering the text exactly; whitespace and unseen words get 0."""
    spans: list[tuple[str, float]] = []
    cursor = 0
    for match in _WORD.finditer(text):
        start, end = match.span()
        if start > cursor:
            spans.append((text[cursor:start], 0.0))
        spans.append((match.group(), weight_of.get(start, 0.0)))
        cursor = end
    if cursor < len(text):
        spans.append((text[cursor:], 0.0))
    return spans
