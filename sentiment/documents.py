"""Score whole documents: a text longer than the model's window is never cut.

A text that fits the window (model.max_length tokens) is scored whole, as `predict`
does. A longer one is split into sentences (sentiment.sentences; a sentence longer than
the window into window-sized pieces), each is scored, and the document's probabilities
are the mean of its sentences' weighted by their length in characters: a long
paragraph counts for more than "Thanks." The breakdown (`Prediction.sentences`) is
kept, and on request (`sentences=True`) it is computed for texts that fit too.

`mixed` is true when the breakdown holds a clearly positive and a clearly negative
sentence: one whose label has probability CLEAR or more. Texts scored whole without a
breakdown have `mixed` false.

Scoring goes through any `predict(texts) -> list[Prediction]` (the process's
InferenceScheduler, or sentiment.predict), in one call per batch of documents, so
whole texts and sentences share model passes.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sentiment.labels import LABELS
from sentiment.language import LanguageRule
from sentiment.sentences import ScoredSentence, Sentence, split

if TYPE_CHECKING:
    from sentiment.inference import Prediction
    from sentiment.model import SentimentModel

CLEAR = 0.8  # a sentence is clearly positive (negative) at this probability or more
Predict = Callable[[Sequence[str]], "list[Prediction]"]


_windows: dict[int, tuple[Any, Window]] = {}  # id -> (the model's tokenizer, its window)
_windows_lock = threading.Lock()


@dataclass(frozen=True)
class Window:
    """What fits in one model pass: `tokens` tokens besides the special ones.

    It counts with its own copy of the tokenizer, behind a lock: a fast tokenizer's
    truncation settings are state that inference changes on another thread.
    """

    tokenizer: Any
    tokens: int
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def of(cls, model: SentimentModel) -> Window:
        """The model's window, built once per loaded model."""
        with _windows_lock:
            known = _windows.get(id(model.tokenizer))
            if known is None or known[0] is not model.tokenizer:
                special = model.tokenizer.num_special_tokens_to_add()
                window = cls(copy.deepcopy(model.tokenizer), model.max_length - special)
                known = _windows[id(model.tokenizer)] = (model.tokenizer, window)
            return known[1]

    def _encode(self, texts: str | list[str], **options: Any) -> Any:
        with self._lock:
            return self.tokenizer(texts, add_special_tokens=False, verbose=False, **options)

    def fits(self, texts: Sequence[str]) -> list[bool]:
        """Does each text fit whole? A token covers at least one byte, so texts of at most
        `tokens` UTF-8 bytes fit without being tokenised; only longer ones are counted."""
        fits = [len(t.encode("utf-8")) <= self.tokens for t in texts]
        longer = [i for i, ok in enumerate(fits) if not ok]
        if longer:
            ids = self._encode([texts[i] for i in longer])
            for i, row in zip(longer, ids["input_ids"], strict=True):
                fits[i] = len(row) <= self.tokens
        return fits

    def pieces(self, sentence: Sentence) -> list[Sentence]:
        """A sentence longer than the window, cut at token boundaries into pieces that fit."""
        offsets = self._encode(sentence.text, return_offsets_mapping=True)["offset_mapping"]
        cut = []
        for first in range(0, len(offsets), self.tokens):
            group = offsets[first : first + self.tokens]
            start, end = group[0][0], group[-1][1]
            text = sentence.text[start:end]
            if text.strip():
                lead = len(text) - len(text.lstrip())
                text = text.strip()
                at = sentence.start + start + lead
                cut.append(Sentence(text, at, at + len(text)))
        return cut or [sentence]


def units(text: str, window: Window) -> list[Sentence]:
    """The pieces a document is scored in: its sentences, each cut to fit the window."""
    sentences = split(text)
    if not sentences:  # no sentence found (never seen): the whole text, stripped
        stripped = text.strip()
        at = text.index(stripped)
        sentences = [Sentence(stripped, at, at + len(stripped))]
    fits = window.fits([s.text for s in sentences])
    return [p for s, ok in zip(sentences, fits, strict=True) for p in (
        [s] if ok else window.pieces(s)
    )]  # fmt: skip


def combine(parts: Sequence[tuple[Sentence, Prediction]]) -> tuple[dict[str, float], bool]:
    """Length-weighted mean probabilities of the parts, and whether they are mixed."""
    total = sum(len(s.text) for s, _ in parts) or 1
    probabilities = {
        label: sum(len(s.text) * p.probabilities[label] for s, p in parts) / total
        for label in LABELS
    }
    return probabilities, is_mixed([p for _, p in parts])


def is_mixed(predictions: Sequence[Prediction]) -> bool:
    clear = {p.label for p in predictions if p.score >= CLEAR}
    return "positive" in clear and "negative" in clear


class DocumentScorer:
    """Whole-document predictions, with the language check, through `predict`."""

    def __init__(self, predict: Predict, window: Window, rule: LanguageRule | None = None):
        self._predict = predict
        self.window = window
        self.rule = rule or LanguageRule()

    def score(
        self,
        texts: Sequence[str],
        *,
        sentences: bool = False,
        languages: Sequence[tuple[str | None, bool]] | None = None,
    ) -> list[Prediction]:
        """One Prediction per text, in order. `sentences`: a breakdown for every text;
        `languages`: the (language, supported) pairs, when the caller checked already."""
        if languages is None:
            languages = [self.rule.check(text) for text in texts]
        fits = self.window.fits(texts)
        whole = [i for i, ok in enumerate(fits) if ok]
        broken = {
            i: units(texts[i], self.window) for i, ok in enumerate(fits) if sentences or not ok
        }
        pieces = [s for i in broken for s in broken[i]]
        found = self._predict([texts[i] for i in whole] + [s.text for s in pieces])
        of_whole = dict(zip(whole, found[: len(whole)], strict=True))
        rest = iter(found[len(whole) :])
        results = []
        for i, (language, supported) in enumerate(languages):
            prediction = of_whole.get(i)
            extra: dict[str, Any] = {"language": language, "language_supported": supported}
            if i in broken:
                parts = [(s, next(rest)) for s in broken[i]]
                probabilities, mixed = combine(parts)
                extra["mixed"] = mixed
                extra["sentences"] = tuple(
                    ScoredSentence(s.text, s.start, s.end, p.label, p.score) for s, p in parts
                )
                if prediction is None:  # too long to score whole: the sentences decide
                    label = max(LABELS, key=lambda name: probabilities[name])
                    prediction = replace(
                        parts[0][1],
                        label=label,
                        score=probabilities[label],
                        probabilities=probabilities,
                        truncated=False,
                    )
            assert prediction is not None
            results.append(replace(prediction, **extra))
        return results
