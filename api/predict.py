"""REST: score texts for the caller and record them in their history (source "api")."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from analysis.scoring import SOURCE_API, Scored
from api.deps import CurrentAccount, ServicesDep
from api.schemas import ERRORS

router = APIRouter(prefix="/api", tags=["predict"])


class PredictRequest(BaseModel):
    """Either `text` or `texts` (up to MAX_TEXTS_PER_REQUEST)."""

    text: str | None = Field(default=None, examples=["The delivery was quick and friendly."])
    texts: list[str] | None = Field(default=None, examples=[["Great!", "Not for me."]])

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.text is None) == (self.texts is None):
            raise ValueError("send either 'text' or 'texts', not both or neither")
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class Probabilities(BaseModel):
    negative: float
    neutral: float
    positive: float


class PredictionOut(BaseModel):
    id: int = Field(description="The history row; delete it with DELETE /api/history/{id}.")
    text: str
    label: str = Field(examples=["positive"])
    score: float = Field(description="Probability of `label`.")
    probabilities: Probabilities
    model: str
    truncated: bool = Field(description="The text was cut at the model's maximum length.")
    created_at: datetime

    @classmethod
    def of(cls, scored: Scored) -> PredictionOut:
        p = scored.prediction
        return cls(
            id=scored.id,
            text=scored.text,
            label=p.label,
            score=p.score,
            probabilities=Probabilities(**p.probabilities),
            model=p.model,
            truncated=p.truncated,
            created_at=scored.created_at,
        )


class PredictResponse(BaseModel):
    predictions: list[PredictionOut]


@router.post("/predict", response_model=PredictResponse, responses=ERRORS)
def predict(
    body: PredictRequest, account: CurrentAccount, services: ServicesDep
) -> PredictResponse:
    """Score one text or a list of texts; each result is saved to your history."""
    scored = services.scoring.score(account.id, body.all_texts(), source=SOURCE_API)
    return PredictResponse(predictions=[PredictionOut.of(s) for s in scored])
