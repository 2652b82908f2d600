"""REST: which words drove a text's label (nothing is saved to the history)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CurrentAccount, ServicesDep
from api.schemas import ERRORS
from sentiment.attribution import word_weights

router = APIRouter(prefix="/api", tags=["predict"])


class ExplainRequest(BaseModel):
    text: str = Field(examples=["The staff were lovely and the food was wonderful."])


class WordOut(BaseModel):
    word: str
    start: int = Field(description="Character offset of the word in `text`.")
    end: int = Field(description="Offset just past the word: text[start:end] == word.")
    weight: float = Field(
        description="How much the word raises (> 0) or lowers (< 0) the predicted label's "
        "log-odds, estimated by occluding words."
    )


class ExplainResponse(BaseModel):
    label: str = Field(examples=["positive"])
    score: float = Field(description="Probability of `label`.")
    words: list[WordOut]


@router.post("/explain", response_model=ExplainResponse, responses=ERRORS)
def explain(
    body: ExplainRequest, account: CurrentAccount, services: ServicesDep
) -> ExplainResponse:
    """Score one text and weigh each of its words; not saved to your history."""
    explanation = services.scoring.explain(body.text)
    prediction = explanation.prediction
    return ExplainResponse(
        label=prediction.label,
        score=prediction.score,
        words=[WordOut(**vars(w)) for w in word_weights(explanation.spans)],
    )
