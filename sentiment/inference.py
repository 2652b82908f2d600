"""Score texts: preprocess (tokenise) -> forward (the model only) -> postprocess.

The split follows transformers' ``pipelines/text_classification.py``; unlike the plain
pipeline, rows are sorted by length and padded per batch, so short texts never pay for
long ones and nothing is padded to 512 tokens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from errors import InvalidInput
from sentiment import attribution
from sentiment.labels import LABELS
from sentiment.model import SentimentModel

DEFAULT_MAX_CHARS = 5_000
DEFAULT_BATCH_SIZE = 32
# Budgets per forward pass, which bound memory: a pass holds ~100 KB of activations per
# padded token plus attention scores growing with length², and ONNX Runtime's arena keeps
# the largest pass's memory for good. At 4,096 tokens and no length² cap, 1,000 reviews
# raised RSS by ~450 MB (~800 MB at 300 tokens each); these cost no measurable speed.
DEFAULT_BATCH_TOKENS = 1_024  # rows x padded length
DEFAULT_BATCH_CELLS = 2**18  # rows x padded length²
# Words for explain(): runs of word characters (with inner apostrophes), or punctuation.
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]+")


@dataclass(frozen=True)
class Prediction:
    label: str  # negative | neutral | positive
    score: float  # probability of ``label``
    probabilities: dict[str, float]  # all three labels; sums to 1
    model: str  # model id, e.g. "bundled-3f2a9c0d1e4b"
    truncated: bool  # the text was cut at the model's maximum length

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-ready: label, score, negative, neutral, positive, model, truncated."""
        return {
            "label": self.label,
            "score": self.score,
            **self.probabilities,
            "model": self.model,
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class Explanation:
    prediction: Prediction
    # (segment, weight) covering the text exactly: "".join(s for s, _ in spans) == text.
    # Weight: how much the segment raises the predicted label's log-odds (see
    # sentiment.attribution); 0.0 for whitespace and for words past the truncation.
    spans: list[tuple[str, float]]


@dataclass(frozen=True)
class _Encoded:
    ids: list[list[int]]
    type_ids: list[list[int]] | None
    truncated: list[bool]


def validate(texts: Sequence[object], max_chars: int | None = DEFAULT_MAX_CHARS) -> list[str]:
    """Check every text (``max_chars=None``: no limit); raises InvalidInput saying why."""
    if isinstance(texts, str):
        raise InvalidInput("Expected a list of texts, got a single string; wrap it in a list.")
    checked = []
    for i, text in enumerate(texts):
        where = f"Text {i + 1}" if len(texts) > 1 else "The text"
        if not isinstance(text, str):
            raise InvalidInput(f"{where} is not text (got {type(text).__name__}).")
        if not text.strip():
            raise InvalidInput(f"{where} is empty; enter some words to score.")
        if max_chars is not None and len(text) > max_chars:
            raise InvalidInput(
                f"{where} has {len(text):,} characters; the limit is {max_chars:,}. "
                "Split it into shorter parts."
            )
        checked.append(text)
    return checked


def preprocess(model: SentimentModel, texts: Sequence[str]) -> _Encoded:
    """Tokenise without padding; cut at the model's maximum and note which texts were cut."""
    tok = model.tokenizer
    enc = tok(list(texts), truncation=True, max_length=model.max_length)
    ids: list[list[int]] = enc["input_ids"]
    truncated = [len(row) >= model.max_length for row in ids]
    if any(truncated):
        # A text of exactly max_length tokens was not cut; only those need a recount.
        suspects = [i for i, cut in enumerate(truncated) if cut]
        full = tok([texts[i] for i in suspects], add_special_tokens=False)["input_ids"]
        extra = tok.num_special_tokens_to_add()
        for i, row in zip(suspects, full, strict=True):
            truncated[i] = len(row) + extra > model.max_length
    type_ids = enc.get("token_type_ids") if "token_type_ids" in model.input_names else None
    return _Encoded(ids, type_ids, truncated)


def _batches(
    lengths: Sequence[int],
    batch_size: int,
    batch_tokens: int,
    batch_cells: int = DEFAULT_BATCH_CELLS,
) -> Iterator[list[int]]:
    """Row indices grouped by similar length, each group's padded size within budget."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batch: list[int] = []
    for i in order:
        # Sorted ascending, so the newest row is the longest of the group.
        rows, width = len(batch) + 1, lengths[i]
        if batch and (
            len(batch) == batch_size
            or rows * width > batch_tokens
            or rows * width * width > batch_cells
        ):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def _pad(model: SentimentModel, enc: _Encoded, rows: list[int]) -> dict[str, np.ndarray]:
    width = max(len(enc.ids[i]) for i in rows)
    pad_id = model.tokenizer.pad_token_id or 0
    input_ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for r, i in enumerate(rows):
        input_ids[r, : len(enc.ids[i])] = enc.ids[i]
        mask[r, : len(enc.ids[i])] = 1
    arrays = {"input_ids": input_ids, "attention_mask": mask}
    if "token_type_ids" in model.input_names:
        types = np.zeros((len(rows), width), dtype=np.int64)
        if enc.type_ids is not None:
            for r, i in enumerate(rows):
                types[r, : len(enc.type_ids[i])] = enc.type_ids[i]
        arrays["token_type_ids"] = types
    return {name: arrays[name] for name in model.input_names}


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def probabilities(
    model: SentimentModel,
    texts: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, list[bool]]:
    """(n, 3) negative/neutral/positive probabilities in input order, and truncation flags.

    No validation: callers check their texts (predict) or build them (explain).
    """
    enc = preprocess(model, texts)
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for rows in _batches([len(r) for r in enc.ids], batch_size, batch_tokens):
        logits = model.runner(_pad(model, enc, rows))
        out[rows] = model.label_map.fold(softmax(logits.astype(np.float32)))
        if progress is not None:
            progress(len(rows))
    return out, enc.truncated


def postprocess(
    model: SentimentModel, probs: np.ndarray, truncated: list[bool]
) -> list[Prediction]:
    predictions = []
    for row, cut in zip(probs.tolist(), truncated, strict=True):
        best = max(range(len(LABELS)), key=row.__getitem__)
        predictions.append(
            Prediction(
                label=LABELS[best],
                score=row[best],
                probabilities=dict(zip(LABELS, row, strict=True)),
                model=model.model_id,
                truncated=cut,
            )
        )
    return predictions


def predict(
    model: SentimentModel,
    texts: Sequence[str],
    *,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    progress: Callable[[int], None] | None = None,
) -> list[Prediction]:
    """One Prediction per text, in input order. Raises InvalidInput for a bad text."""
    checked = validate(texts, max_chars)
    if not checked:
        return []
    probs, truncated = probabilities(
        model, checked, batch_size=batch_size, batch_tokens=batch_tokens, progress=progress
    )
    return postprocess(model, probs, truncated)


def explain(
    model: SentimentModel,
    text: str,
    *,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    max_variants: int = 128,
) -> Explanation:
    """Per-word contributions to the predicted label, by occlusion (one batched pass).

    The weights come from sentiment.attribution: variants with words removed, fitted on
    the predicted label's log-odds. Long texts are occluded in groups of neighbouring
    words so that at most ``max_variants`` variants are scored; a group's words share
    its weight.
    """
    (text,) = validate([text], max_chars)
    words = [m.span() for m in _WORD.finditer(text)]
    enc = preprocess(model, [text])
    if enc.truncated[0]:  # words the model never sees contribute nothing
        offsets = model.tokenizer(
            text, truncation=True, max_length=model.max_length, return_offsets_mapping=True
        )["offset_mapping"]
        seen_until = max(end for _, end in offsets)
        words = [w for w in words if w[0] < seen_until]
    size = max(1, math.ceil(len(words) / attribution.max_groups(max_variants)))
    groups = [words[i : i + size] for i in range(0, len(words), size)]
    kept = attribution.masks(len(groups), max_variants)
    variants = [attribution.occlude(text, groups, row) for row in kept]
    probs, truncated = probabilities(model, variants)
    (prediction,) = postprocess(model, probs[:1], truncated[:1])
    best = LABELS.index(prediction.label)
    weights = attribution.fit(kept, attribution.log_odds(probs, best))
    weight_of = {
        span[0]: float(w) for group, w in zip(groups, weights, strict=True) for span in group
    }
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
    return Explanation(prediction=prediction, spans=spans)
