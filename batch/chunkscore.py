"""Scoring one chunk's texts: the language check, then whole-document labels, with two
parts of the chunk in flight.

The texts go shortest first, so that each model pass holds texts of about the same
length (as one `predict` over the chunk would sort them), in parts of PASS_ROWS; a stop
request is seen between parts. While the scheduler runs the model over one part, a
second thread checks the next part's languages and tokenises it, so the model does not
wait for that work; the results go back in row order.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sentiment.documents import DocumentScorer
from sentiment.language import LanguageRule
from storage.models import LABELS

PASS_ROWS = 256  # texts handed to the scheduler at a time
IN_FLIGHT = 2  # parts being prepared or scored at once


@dataclass
class Scored:
    # Per text, in row order: [label index, score, negative, neutral, positive, cut], or
    # None for one LANGUAGE_POLICY=skip left unscored; its language (None when unsure).
    results: list[list[Any] | None]
    languages: list[str | None]
    unsupported: int  # texts confidently in a language the model does not read
    model: str


def score_texts(
    found: list[tuple[str, bool]],
    scorer: DocumentScorer,
    rule: LanguageRule,
    stop: Callable[[], None],
) -> Scored:
    """Score (text, cut) pairs; `stop()` is called before each part and may raise."""
    order = sorted(range(len(found)), key=lambda i: len(found[i][0]))
    scored = Scored([None] * len(found), [None] * len(found), 0, "")

    def part(indices: list[int]) -> tuple[int, str]:
        stop()
        checks = {i: rule.check(found[i][0]) for i in indices}
        for i, (language, _supported) in checks.items():
            scored.languages[i] = language
        kept = [i for i in indices if checks[i][1] or not rule.skip]  # the rest stay None
        found_model = ""
        texts = [found[i][0] for i in kept]
        predictions = scorer.score(texts, languages=[checks[i] for i in kept])
        for i, p in zip(kept, predictions, strict=True):
            probs = p.probabilities
            cut = found[i][1] or p.truncated
            scored.results[i] = [LABELS.index(p.label), p.score, probs["negative"],
                                 probs["neutral"], probs["positive"], cut]  # fmt: skip
            found_model = p.model
        return sum(not supported for _l, supported in checks.values()), found_model

    parts = [order[start : start + PASS_ROWS] for start in range(0, len(order), PASS_ROWS)]
    pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="chunk-part")
    try:
        for unsupported, model in pool.map(part, parts):
            scored.unsupported += unsupported
            scored.model = model or scored.model
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return scored
