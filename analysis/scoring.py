"""Score texts for a user and record them; explain a score; the guest demo (nothing saved)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from analysis.ratelimit import RateLimiter
from auth.tokens import Clock, system_clock
from errors import InvalidInput, PermissionDenied, RateLimited
from storage import predictions
from storage.engine import Database

if TYPE_CHECKING:
    from sentiment import Explanation, Prediction, SentimentModel
    from sentiment.scheduler import InferenceScheduler

SOURCE_SINGLE, SOURCE_API = "single", "api"


@dataclass(frozen=True)
class Scored:
    """A scored text as recorded in the user's history."""

    id: int
    text: str
    prediction: Prediction
    source: str
    created_at: datetime


class ScoringService:
    def __init__(
        self,
        db: Database,
        model: SentimentModel,
        *,
        max_texts: int = 100,
        max_chars: int = 5_000,
        guest_limiter: RateLimiter | None = None,
        clock: Clock = system_clock,
        scheduler: InferenceScheduler | None = None,
    ) -> None:
        self._db = db
        self._model = model
        self._scheduler = scheduler  # shares passes with other requests, before batch work
        self.max_texts = max_texts
        self.max_chars = max_chars
        self._guests = guest_limiter  # None: the guest demo is off
        self._clock = clock

    @property
    def guest_mode(self) -> bool:
        return self._guests is not None

    def score(
        self, user_id: int, texts: Sequence[str], *, source: str = SOURCE_SINGLE
    ) -> list[Scored]:
        """Score `texts` and add them to `user_id`'s history, in one transaction.

        Raises InvalidInput for no texts, too many, or an empty/overlong text.
        """
        self._check_count(texts)
        results = self.predict(texts)
        return self._record(user_id, texts, results, source)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Score without recording: through the process's scheduler when there is one."""
        if self._scheduler is not None:
            return self._scheduler.predict(texts, max_chars=self.max_chars)
        from sentiment import predict

        return predict(self._model, texts, max_chars=self.max_chars)

    def explain(self, text: str) -> Explanation:
        """Which words drove the prediction (nothing is recorded)."""
        from sentiment import explain

        return explain(self._model, text, max_chars=self.max_chars)

    def analyze(self, user_id: int, text: str) -> tuple[Scored, Explanation]:
        """The Analyze tab: explain one text and record its prediction."""
        explanation = self.explain(text)
        (scored,) = self._record(user_id, [text], [explanation.prediction], SOURCE_SINGLE)
        return scored, explanation

    def analyze_as_guest(self, text: str, client_key: str) -> Explanation:
        """The guest demo: explain one text, save nothing.

        Raises PermissionDenied when GUEST_MODE is off, RateLimited over the per-IP limit.
        """
        if self._guests is None:
            raise PermissionDenied("The guest demo is off here. Create an account to analyze.")
        if not self._guests.allow(client_key):
            raise RateLimited(
                f"Guests may analyze {self._guests.limit} texts a minute; try again in "
                f"{self._guests.retry_after(client_key)} s, or create a free account."
            )
        return self.explain(text)

    def _record(
        self, user_id: int, texts: Sequence[str], results: Sequence[Prediction], source: str
    ) -> list[Scored]:
        now = self._clock()
        rows = [
            predictions.new_row(
                user_id=user_id,
                text=text,
                label=p.label,
                score=p.score,
                probabilities=p.probabilities,
                model_id=p.model,
                source=source,
                created_at=now,
            )
            for text, p in zip(texts, results, strict=True)
        ]
        with self._db.session_scope() as session:
            ids = predictions.insert_many(session, rows, return_ids=True)
        return [
            Scored(i, text, p, source, now) for i, text, p in zip(ids, texts, results, strict=True)
        ]

    def _check_count(self, texts: Sequence[str]) -> None:
        if isinstance(texts, str):
            raise InvalidInput("Expected a list of texts, got a single string; wrap it in a list.")
        if not texts:
            raise InvalidInput("There is nothing to score; send at least one text.")
        if len(texts) > self.max_texts:
            raise InvalidInput(
                f"{len(texts)} texts in one request; the limit is {self.max_texts}. Send them "
                "in smaller groups, or upload a CSV on the Batch tab."
            )
