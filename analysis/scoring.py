"""Score texts for a user and record them; explain a score; the guest demo (nothing saved)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from analysis.ratelimit import RateLimiter
from auth.tokens import Clock, system_clock
from errors import InvalidInput, PermissionDenied, RateLimited
from sentiment.language import LanguageRule
from storage import predictions
from storage.engine import Database

if TYPE_CHECKING:
    from sentiment import Explanation, Prediction, SentimentModel
    from sentiment.documents import DocumentScorer
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
        languages: LanguageRule | None = None,
    ) -> None:
        self._db = db
        self._model = model
        self._scheduler = scheduler  # shares passes with other requests, before batch work
        self.max_texts = max_texts
        self.max_chars = max_chars
        self._guests = guest_limiter  # None: the guest demo is off
        self._clock = clock
        self.languages = languages or LanguageRule()  # what the model reads; the check
        self._documents: DocumentScorer | None = None

    @property
    def guest_mode(self) -> bool:
        return self._guests is not None

    def score(
        self,
        user_id: int,
        texts: Sequence[str],
        *,
        source: str = SOURCE_SINGLE,
        sentences: bool = False,
    ) -> list[Scored]:
        """Score `texts` and add them to `user_id`'s history, in one transaction.

        Raises InvalidInput for no texts, too many, or an empty/overlong text.
        """
        self._check_count(texts)
        results = self.predict(texts, sentences=sentences)
        return self._record(user_id, texts, results, source)

    def predict(self, texts: Sequence[str], *, sentences: bool = False) -> list[Prediction]:
        """Whole-document predictions with their language, without recording; a text
        longer than the model's window is scored by sentences (sentiment.documents).
        `sentences`: every text gets its sentence breakdown."""
        from sentiment.inference import validate

        checked = validate(texts, self.max_chars)
        return self.documents.score(checked, sentences=sentences) if checked else []

    @property
    def documents(self) -> DocumentScorer:
        """Scores documents through the process's scheduler when there is one."""
        if self._documents is None:
            from sentiment.documents import DocumentScorer, Window

            self._documents = DocumentScorer(self._predict, Window.of(self._model), self.languages)
        return self._documents

    def _predict(self, texts: Sequence[str]) -> list[Prediction]:
        if self._scheduler is not None:
            return self._scheduler.predict(texts, max_chars=None)
        from sentiment import predict

        return predict(self._model, texts, max_chars=None)

    def explain(self, text: str, *, sentences: bool = False) -> Explanation:
        """Which words drove the prediction (nothing is recorded). The words are weighed
        within the model's window; the label is the whole document's."""
        from sentiment import Explanation, explain

        score = self._scheduler.probabilities if self._scheduler is not None else None
        explanation = explain(self._model, text, max_chars=self.max_chars, score=score)
        prediction = explanation.prediction
        if sentences or prediction.truncated:
            (prediction,) = self.predict([text], sentences=sentences)
        else:
            language, supported = self.languages.check(text)
            prediction = replace(prediction, language=language, language_supported=supported)
        return Explanation(prediction=prediction, spans=explanation.spans)

    def analyze(self, user_id: int, text: str) -> tuple[Scored, Explanation]:
        """The Analyze tab: explain one text with its sentences and record its prediction."""
        explanation = self.explain(text, sentences=True)
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
        return self.explain(text, sentences=True)

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
