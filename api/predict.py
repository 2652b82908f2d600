"""REST: score texts for the caller and record them in their history (source "api")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

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
    detail: Literal["label", "sentences"] = Field(
        default="label",
        description="`sentences`: each text's sentence breakdown too (`sentences`).",
    )

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


class SentenceOut(BaseModel):
    text: str = Field(description="The sentence, equal to the text's [start:end].")
    start: int
    end: int
    label: str
    score: float


class PredictionOut(BaseModel):
    id: int = Field(description="The history row; delete it with DELETE /api/history/{id}.")
    text: str
    label: str = Field(examples=["positive"])
    score: float = Field(description="Probability of `label`.")
    probabilities: Probabilities
    model: str
    truncated: bool = Field(
        description="Always false here: texts over MAX_TEXT_CHARS are refused, and texts longer"
        " than the model's window are scored by sentences, never cut."
    )
    language: str | None = Field(
        description="ISO 639-1 code of the text's language; null when unsure (short texts).",
        examples=["en"],
    )
    language_supported: bool = Field(
        description="False when the text is confidently in a language the model does not read:"
        " its label is not reliable."
    )
    mixed: bool = Field(
        description="Clearly positive and clearly negative sentences are both there (known when"
        " the text was scored by sentences: long texts, or `detail: sentences`)."
    )
    sentences: list[SentenceOut] | None = Field(
        default=None, description="With `detail: sentences`: each sentence's label."
    )
    created_at: datetime

    @classmethod
    def of(cls, scored: Scored, *, sentences: bool = False) -> PredictionOut:
        p = scored.prediction
        return cls(
            id=scored.id,
            text=scored.text,
            label=p.label,
            score=p.score,
            probabilities=Probabilities(**p.probabilities),
            model=p.model,
            truncated=p.truncated,
            language=p.language,
            language_supported=p.language_supported,
            mixed=p.mixed,
            sentences=[SentenceOut(**s.to_dict()) for s in p.sentences] if sentences else None,
            created_at=scored.created_at,
        )


class PredictResponse(BaseModel):
    predictions: list[PredictionOut]


@router.post("/predict", response_model=PredictResponse, responses=ERRORS)
def predict(
    body: PredictRequest, account: CurrentAccount, services: ServicesDep
) -> PredictResponse:
    """Score one text or a list of texts; each result is saved to your history."""
    sentences = body.detail == "sentences"
    scored = services.scoring.score(
        account.id, body.all_texts(), source=SOURCE_API, sentences=sentences
    )
    return PredictResponse(predictions=[PredictionOut.of(s, sentences=sentences) for s in scored])
