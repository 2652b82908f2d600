"""The batches' settings: how large a batch may be, who scores it, how long its files stay.

A group of `Settings` fields (settings.py composes them); the README's settings table
lists each. Like settings.py, it never imports the batch code (`batch/`).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class BatchSettings(BaseSettings):
    MAX_BATCH_ROWS: int = Field(
        default=200_000, ge=1, le=10_000_000, description="Most data rows one batch CSV may hold."
    )
    MAX_BATCH_TEXT_CHARS: int = Field(
        default=5_000,
        ge=1,
        le=1_000_000,
        description="Batch texts longer than this are cut to it for the model and flagged.",
    )
    BATCH_WORKERS: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Batch worker threads in each web process; 0: only `python app.py worker` "
        "processes score batches (PostgreSQL).",
    )
    BATCH_CHUNK_ROWS: int = Field(
        default=1_000,
        ge=1,
        le=100_000,
        description="Rows per batch chunk, the unit of work a worker takes (fewer for long texts).",
    )
    BATCH_FILES_DAYS: int = Field(
        default=30,
        ge=1,
        le=36_500,
        description="Days a batch's stored upload and results are kept; its history rows stay.",
    )
