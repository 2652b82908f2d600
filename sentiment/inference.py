"""Score texts: preprocess (tokenise) -> forward (the model only) -> postprocess.

The split follows transformers' ``pipelines/text_classification.py``; unlike the plain
pipeline, rows are sorted by length and padded per batch, so short texts never pay for
long ones and nothing is padded to 512 tokens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from errors import InvalidInput
from sentiment.calibration import softmax
from sentiment.labels import LABELS
from sentiment.model import SentimentModel
from sentiment.sentences import ScoredSentence

DEFAULT_MAX_CHARS = 5_000
DEFAULT_BATCH_SIZE = 32
# Budgets per forward pass, which bound memory: a pass holds ~100 KB of activations per
# padded token plus attention scores growing with length², and ONNX Runtime's arena keeps
# the largest pass's memory for good. At 4,096 tokens and no length² cap, 1,000 reviews
# raised RSS by ~450 MB (~800 MB at 300 tokens each); these cost no measurable speed.
DEFAULT_BATCH_TOKENS = 1_024  # rows x padded length
DEFAULT_BATCH_CELLS = 2**18  # rows x padded length²
# Texts per tokenizer call: each call pads to its longest row, so this bounds its memory
# (1,024 x 512 tokens x 3 inputs x 8 bytes = 12 MB); rows are sorted by length within it.
TOKENIZE_CHUNK = 1_024
# A fast tokenizer keeps its padding and truncation settings in the Rust object and sets
# them on every call: two threads calling it at once get each other's (seen: ids padded
# to 68 beside a mask of 32). Callers tokenise in their own threads (the scheduler only
# runs the model), so every call holds this lock; a call takes about a millisecond.
TOKENIZING = threading.Lock()


@dataclass(frozen=True)
class Prediction:
    label: str  # negative | neutral | positive
    score: float  # probability of ``label``
    probabilities: dict[str, float]  # all three labels; sums to 1
    model: str  # model id, e.g. "bundled-3f2a9c0d1e4b"
    truncated: bool  # the text was cut at the model's maximum length
    # Set by sentiment.documents (the plain predict leaves the defaults):
    language: str | None = None  # ISO 639-1, None when unsure (very short texts)
    language_supported: bool = True  # False: confidently a language the model does not read
    mixed: bool = False  # clearly positive and clearly negative sentences are both there
    sentences: tuple[ScoredSentence, ...] = ()  # the breakdown, when asked for or needed

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-ready: label, score, negative, neutral, positive, model, truncated,
        language, language_supported, mixed, and `sentences` when there is a breakdown."""
        flat: dict[str, Any] = {
            "label": self.label,
            "score": self.score,
            **self.probabilities,
            "model": self.model,
            "truncated": self.truncated,
            "language": self.language,
            "language_supported": self.language_supported,
            "mixed": self.mixed,
        }
        if self.sentences:
            flat["sentences"] = [s.to_dict() for s in self.sentences]
        return flat


@dataclass(frozen=True)
class Explanation:
    prediction: Prediction
    # (segment, weight) covering the text exactly: "".join(s for s, _ in spans) == text.
    # Weight: how much the segment raises the predicted label's log-odds (see
    # sentiment.attribution); 0.0 for whitespace and for words past the truncation.
    spans: list[tuple[str, float]]


@dataclass(frozen=True)
class _Encoded:
    arrays: dict[str, np.ndarray]  # input name -> rows x longest row, int64, padded right
    lengths: np.ndarray  # tokens per row
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
    """Tokenise straight into numpy, cut at the model's maximum; note which texts were cut."""
    tok = model.tokenizer
    with TOKENIZING:
        enc = tok(
            list(texts),
            truncation=True,
            max_length=model.max_length,
            padding=True,
            padding_side="right",  # batches are cut from the left-aligned rows
            return_tensors="np",
            return_attention_mask=True,
            return_token_type_ids="token_type_ids" in model.input_names,
        )
    arrays = {name: np.asarray(enc[name], dtype=np.int64) for name in model.input_names}
    lengths = arrays["attention_mask"].sum(axis=1) if "attention_mask" in arrays else None
    if lengths is None:
        lengths = np.full(len(texts), arrays["input_ids"].shape[1], dtype=np.int64)
    truncated = [False] * len(texts)
    suspects = np.flatnonzero(lengths >= model.max_length).tolist()
    if suspects:
        # A text of exactly max_length tokens was not cut; only those need a recount.
        with TOKENIZING:
            full = tok([texts[i] for i in suspects], add_special_tokens=False)["input_ids"]
        extra = tok.num_special_tokens_to_add()
        for i, row in zip(suspects, full, strict=True):
            truncated[i] = len(row) + extra > model.max_length
    return _Encoded(arrays, lengths, truncated)


def length_groups(
    lengths: Sequence[int] | np.ndarray,
    batch_size: int,
    batch_tokens: int,
    batch_cells: int = DEFAULT_BATCH_CELLS,
) -> Iterator[np.ndarray]:
    """Row indices grouped by similar length, each group's padded size within budget."""
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    ordered = np.asarray(lengths, dtype=np.int64)[order]
    start = 0
    while start < len(order):
        # Sorted ascending, so a group's last row is its longest, and rows x width only grows
        # along the window: the rows that fit are a prefix of it.
        width = ordered[start : start + batch_size]
        rows = np.arange(1, len(width) + 1)
        fits = (rows * width <= batch_tokens) & (rows * width * width <= batch_cells)
        take = max(1, int(fits.sum()))
        yield order[start : start + take]
        start += take


def pass_inputs(enc: _Encoded, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays of one pass: `rows` (sorted by length) cut to the longest one's width."""
    width = int(enc.lengths[rows[-1]])
    return {n: a[rows, :width] for n, a in enc.arrays.items()}


def forward(model: SentimentModel, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The model only: one pass over padded inputs -> (rows, 3) probabilities."""
    logits = model.calibration.apply(model.runner(inputs), model.label_map.neutral_output)
    return model.label_map.fold(softmax(logits.astype(np.float32)))


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
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    truncated: list[bool] = []
    for start in range(0, len(texts), TOKENIZE_CHUNK):
        enc = preprocess(model, texts[start : start + TOKENIZE_CHUNK])
        truncated += enc.truncated
        for rows in length_groups(enc.lengths, batch_size, batch_tokens):
            out[start + rows] = forward(model, pass_inputs(enc, rows))
            if progress is not None:
                progress(len(rows))
    return out, truncated


def postprocess(
    model: SentimentModel, probs: np.ndarray, truncated: list[bool]
) -> list[Prediction]:
    predictions = []
    winners = probs.argmax(axis=1).tolist()
    for row, best, cut in zip(probs.tolist(), winners, truncated, strict=True):
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
