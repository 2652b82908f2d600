"""REST: aggregates of the caller's history (same filters as /api/history)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from analysis.insights import bin_range
from api.deps import CurrentAccount, ServicesDep
from api.history import Filters
from api.schemas import ERRORS

router = APIRouter(prefix="/api", tags=["insights"])


class DayCount(BaseModel):
    day: str
    label: str
    count: int


class WordCount(BaseModel):
    word: str
    count: int


class BinCount(BaseModel):
    range: str
    label: str
    count: int


class InsightsOut(BaseModel):
    total: int
    distribution: dict[str, int]
    trend: list[DayCount]
    confidence: list[BinCount]
    top_words: dict[str, list[WordCount]]
    words_sampled: int
    evaluation: dict[str, Any] | None = Field(
        default=None,
        description="With `batch_id`: that batch's evaluation on its own labels, as its "
        "status carries it (null when it named no label column).",
    )


@router.get("/insights", response_model=InsightsOut, responses=ERRORS)
def insights(account: CurrentAccount, services: ServicesDep, filters: Filters) -> InsightsOut:
    """Counts per label, per day and per confidence range, top words per label and, for
    one batch, its evaluation on your labels."""
    found = services.insights.for_user(account.id, filters)
    return InsightsOut(
        total=found.total,
        distribution=found.distribution,
        trend=[DayCount(day=d, label=lab, count=n) for d, lab, n in found.trend],
        confidence=[
            BinCount(range=bin_range(b), label=lab, count=n) for b, lab, n in found.histogram
        ],
        top_words={
            label: [WordCount(word=w, count=n) for w, n in words]
            for label, words in found.words.items()
        },
        words_sampled=found.words_sampled,
        evaluation=(
            services.batches.evaluation(account.id, filters.batch_id) if filters.batch_id else None
        ),
    )
