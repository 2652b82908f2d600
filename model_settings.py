"""The model's settings: which classifier, how it runs, which languages it reads.

A group of `Settings` fields (settings.py composes them); the README's settings table
lists each. Like settings.py, it never imports the model stack (`sentiment/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

ANY = "*"  # MODEL_LANGUAGES: the model reads every language


def parse_languages(value: str) -> frozenset[str] | None:
    """MODEL_LANGUAGES ("en", "en,de", "*") as a set of codes; None means any language."""
    codes = {part.strip().lower() for part in value.split(",") if part.strip()}
    return None if ANY in codes else frozenset(codes)


class ModelSettings(BaseSettings):
    SENTIMENT_MODEL: str = Field(
        default="bundled",
        description="Sentiment model: `bundled`, a local model directory or a model id.",
    )
    SENTIMENT_BACKEND: Literal["onnx-int8", "torch"] = Field(
        default="onnx-int8",
        description="Inference path: `onnx-int8` (ONNX Runtime, int8; fastest) or `torch` (fp32).",
    )
    SENTIMENT_THREADS: int = Field(
        default=0, ge=0, le=256, description="Inference threads; 0 means one per physical core."
    )
    SCORING_CONCURRENCY: int = Field(
        default=6,
        ge=0,
        le=1024,
        description="REST scoring requests (`/api/predict`, `/api/explain`) let in at once per "
        "process; the rest wait their turn, so reads stay quick under load. 0: no limit.",
    )
    MODEL_CACHE_DIR: Path | None = Field(
        default=None,
        description="Where the exported ONNX model is kept; default `DATA_DIR/models`.",
    )
    MODEL_LANGUAGES: str = Field(
        default="en",
        description="Languages the model reads (ISO 639-1, comma-separated; `*`: any). The "
        "bundled model reads English only; set this for a multilingual SENTIMENT_MODEL.",
    )
    LANGUAGE_POLICY: Literal["flag", "skip"] = Field(
        default="flag",
        description="Texts confidently in another language: `flag` scores and marks them; "
        "`skip` leaves such batch rows unscored (blank label, language filled in).",
    )

    @field_validator("MODEL_LANGUAGES")
    @classmethod
    def _check_languages(cls, value: str) -> str:
        codes = parse_languages(value)
        if codes is not None and (not codes or any(
            len(code) != 2 or not code.isalpha() for code in codes
        )):  # fmt: skip
            raise ValueError(
                f"MODEL_LANGUAGES must list two-letter ISO 639-1 codes such as `en` or "
                f"`en,de,fr`, or be `{ANY}` for a model that reads any language; got {value!r}."
            )
        return value

    @property
    def model_languages(self) -> frozenset[str] | None:
        """The codes MODEL_LANGUAGES names; None: any language."""
        return parse_languages(self.MODEL_LANGUAGES)
