"""Aggregates of a user's history: distribution, daily trend, confidence, top words."""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.stopwords import STOP_WORDS
from storage import predictions
from storage.engine import Database
from storage.models import LABELS
from storage.predictions import HISTOGRAM_BINS, HistoryFilters

TOP_WORDS = 20
# Words are counted over every matching text up to this many; a larger history is counted
# over an even sample (every k-th id; the tab says so), which keeps Insights under a second
# at 100,000 rows (benchmarks/insights.py). The top 20 words of 20,000 texts hardly differ
# from those of all of them; reading and splitting every text cost ~1.3 s per 100,000.
WORD_TEXTS = 20_000
# Left out before words are cut: links, @mentions and HTML entities (&amp; &#39; &nbsp;).
_NOISE = re.compile(r"(?:https?://|www\.)\S+|@\w+|&#?\w+;?", re.IGNORECASE)
# Letters only, not touching a digit or underscore ("10/10", "b737", "2nd" are no words).
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:['’][^\W\d_]+)*(?!\w)")


@dataclass(frozen=True)
class Insights:
    total: int
    distribution: dict[str, int]  # every label, zeros included
    trend: list[tuple[str, str, int]]  # (YYYY-MM-DD, label, count), oldest first
    histogram: list[tuple[int, str, int]]  # (bin 0..9, label, count)
    # label -> [(word, count)], most frequent first
    words: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    words_sampled: int = 0  # texts the words were counted over: all, up to WORD_TEXTS

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
    """Lower-cased words without stop words, links, @mentions, HTML entities, numbers or
    one- and two-letter words."""
    found = _WORD.findall(_NOISE.sub(" ", text).lower().replace("’", "'"))
    return [w for w in found if _counts(w)]


def _counts(word: str) -> bool:
    return len(word) > 2 and word not in STOP_WORDS


class WordCounter:
    """Word counts per label, fed in chunks.

    Whitespace-separated tokens are counted first (C-speed split and Counter), and only
    distinct tokens go through the regexes: links, mentions and entities never contain
    whitespace, so this equals running words_of on every text (100,000 texts: ~0.25 s).
    """

    def __init__(self) -> None:
        self._tokens: dict[str, Counter[str]] = {label: Counter() for label in LABELS}
        self.texts = 0

    def add(self, rows: Sequence[tuple[str, str]]) -> None:
        by_label: dict[str, list[str]] = {}
        for label, text in rows:
            by_label.setdefault(label, []).append(text)
        for label, texts in by_label.items():
            self._tokens[label].update("\n".join(texts).lower().split())
        self.texts += len(rows)

    def top(self, n: int) -> dict[str, list[tuple[str, int]]]:
        words_in: dict[str, list[str]] = {}
        result = {}
        for label, tokens in self._tokens.items():
            counts: Counter[str] = Counter()
            for token, count in tokens.items():
                if token not in words_in:
                    words_in[token] = words_of(token)
                for word in words_in[token]:
                    counts[word] += count
            result[label] = heapq.nsmallest(n, counts.items(), key=lambda i: (-i[1], i[0]))
        return result


def word_counts(rows: Sequence[tuple[str, str]], top: int) -> dict[str, list[tuple[str, int]]]:
    counter = WordCounter()
    counter.add(rows)
    return counter.top(top)


class InsightsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def for_user(
        self, user_id: int, filters: HistoryFilters, *, top_words: int = TOP_WORDS
    ) -> Insights:
        """Everything the Insights tab shows, for the same filters as History."""
        with self._db.session_scope() as session:
            groups = predictions.counts_by_label_day_and_bin(session, user_id, filters)
            total = sum(n for *_, n in groups)
            if total == 0:
                return Insights(0, dict.fromkeys(LABELS, 0), [], [])
            words = WordCounter()
            every = math.ceil(total / WORD_TEXTS)
            for chunk in predictions.texts(session, user_id, filters, every=every):
                words.add(chunk)
        distribution = dict.fromkeys(LABELS, 0)
        by_day: Counter[tuple[str, str]] = Counter()
        by_bin: Counter[tuple[int, str]] = Counter()
        for label, day, bucket, n in groups:
            distribution[label] = distribution.get(label, 0) + n
            by_day[day, label] += n
            by_bin[bucket, label] += n
        return Insights(
            total=total,
            distribution=distribution,
            trend=[(day, label, n) for (day, label), n in sorted(by_day.items())],
            histogram=[(b, label, n) for (b, label), n in sorted(by_bin.items())],
            words=words.top(top_words),
            words_sampled=words.texts,
        )


def bin_range(index: int) -> str:
    """'0.90-1.00' for the last bin."""
    return f"{index / HISTOGRAM_BINS:.2f}-{(index + 1) / HISTOGRAM_BINS:.2f}"
