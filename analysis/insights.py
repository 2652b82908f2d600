"""Aggregates of a user's history: distribution, daily trend, confidence, top words."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from analysis.stopwords import STOP_WORDS
from storage import predictions
from storage.engine import Database
from storage.models import LABELS
from storage.predictions import HISTOGRAM_BINS, HistoryFilters

# Word counts come from the newest rows only, so Insights stays fast on huge histories.
WORD_SAMPLE = 5_000
TOP_WORDS = 20
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


@dataclass(frozen=True)
class Insights:
    total: int
    distribution: dict[str, int]  # every label, zeros included
    trend: list[tuple[str, str, int]]  # (YYYY-MM-DD, label, count), oldest first
    histogram: list[tuple[int, str, int]]  # (bin 0..9, label, count)
    # label -> [(word, count)], most frequent first
    words: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    words_sampled: int = 0  # how many of the newest texts the words come from

    @property
    def empty(self) -> bool:
        return self.total == 0

    def summary(self) -> dict[str, object]:
        """Counts only: total, per label, per day and the top words (JSON-ready)."""
        return {
            "total": self.total,
            "distribution": self.distribution,
            "trend": [{"day": d, "label": lab, "count": n} for d, lab, n in self.trend],
            "top_words": {
                label: [{"word": w, "count": n} for w, n in words]
                for label, words in self.words.items()
            },
        }


def words_of(text: str) -> list[str]:
    """Lower-cased words without stop words, numbers or one- and two-letter words."""
    found = (w.lower().replace("’", "'") for w in _WORD.findall(text))
    return [w for w in found if len(w) > 2 and w not in STOP_WORDS]


def word_counts(rows: list[tuple[str, str]], top: int) -> dict[str, list[tuple[str, int]]]:
    counters: dict[str, Counter[str]] = {label: Counter() for label in LABELS}
    for label, text in rows:
        counters[label].update(words_of(text))
    return {label: counter.most_common(top) for label, counter in counters.items()}


class InsightsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def for_user(
        self, user_id: int, filters: HistoryFilters, *, top_words: int = TOP_WORDS
    ) -> Insights:
        """Everything the Insights tab shows, for the same filters as History."""
        with self._db.session_scope() as session:
            counts = predictions.count_by_label(session, user_id, filters)
            total = sum(counts.values())
            if total == 0:
                return Insights(0, dict.fromkeys(LABELS, 0), [], [])
            trend = predictions.count_by_day_and_label(session, user_id, filters)
            histogram = predictions.score_histogram(session, user_id, filters)
            sample = predictions.recent_texts(session, user_id, filters, WORD_SAMPLE)
        return Insights(
            total=total,
            distribution={label: counts.get(label, 0) for label in LABELS},
            trend=trend,
            histogram=histogram,
            words=word_counts(sample, top_words),
            words_sampled=len(sample),
        )


def bin_range(index: int) -> str:
    """'0.90-1.00' for the last bin."""
    return f"{index / HISTOGRAM_BINS:.2f}-{(index + 1) / HISTOGRAM_BINS:.2f}"
