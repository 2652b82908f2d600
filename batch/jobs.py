"""What a user sees of a batch job: status, progress, outcome. Built from the job row alone,
so every process (and a restarted one) shows the same thing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import LABELS, BatchJob, utcnow

SOURCE_BATCH = "batch"


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    elapsed_s: float

    @property
    def rows_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.done >= self.total:
            return 0.0
        rate = self.rows_per_s
        return (self.total - self.done) / rate if rate > 0 else None

    def describe(self) -> str:
        """`1,024 / 10,000 rows · 250 rows/s · 36 s left`."""
        eta = self.eta_s
        left = f"{eta:,.0f} s left" if eta is not None else "estimating time left"
        return f"{self.done:,} / {self.total:,} rows · {self.rows_per_s:,.0f} rows/s · {left}"


@dataclass(frozen=True)
class JobView:
    id: str
    status: str  # queued, running, done, failed, cancelled
    filename: str
    text_column: str
    progress: Progress
    batch_id: int | None
    counts: dict[str, int] | None  # when done
    mean_confidence: float | None
    truncated: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    files_expire_at: datetime
    files_expired: bool
    details: dict[str, Any]  # encoding, delimiter, columns, rows, empty rows...
    evaluation: dict[str, Any] | None = None  # against the user's labels, when done

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled")

    @property
    def download_url(self) -> str | None:
        if self.status != "done" or self.files_expired or self.batch_id is None:
            return None
        return f"/api/batch/{self.batch_id}/results.csv"

    @property
    def misclassified_url(self) -> str | None:
        if self.download_url is None or self.evaluation is None:
            return None
        return f"/api/batch/{self.batch_id}/misclassified.csv"

    @property
    def status_url(self) -> str:
        return f"/api/batch/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        """The REST and gradio_client shape of a job."""
        p = self.progress
        return {
            "job_id": self.id,
            "id": self.id,
            "status": self.status,
            "filename": self.filename,
            "text_column": self.text_column,
            "progress": {
                "done": p.done,
                "total": p.total,
                "rows_per_s": round(p.rows_per_s, 1),
                "eta_s": None if p.eta_s is None else round(p.eta_s, 1),
            },
            "batch_id": self.batch_id,
            "counts": self.counts,
            "mean_confidence": (
                None if self.mean_confidence is None else round(self.mean_confidence, 6)
            ),
            "rows": self.details.get("rows"),
            "scored": sum(self.counts.values()) if self.counts else None,
            "empty_rows": self.details.get("empty_rows"),
            "empty_lines": self.details.get("empty_lines"),
            "truncated": self.truncated,
            "encoding": self.details.get("encoding"),
            "delimiter": self.details.get("delimiter_name"),
            "sheet": self.details.get("sheet"),  # the workbook's sheet read; null for CSV
            # Rows confidently in a language the model does not read: flagged (scored,
            # `language` column) or, with LANGUAGE_POLICY=skip, left unscored; when done.
            "unsupported_language": self.details.get("unsupported_language"),
            "language_policy": self.details.get("language_policy"),
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "files_expire_at": self.files_expire_at.isoformat(),
            "files_expired": self.files_expired,
            "elapsed_s": round(p.elapsed_s, 3),
            "status_url": self.status_url,
            "download_url": self.download_url,
            "label_column": self.details.get("label_column"),
            "label_map": self.details.get("label_map"),
            "label_map_suggested": self.details.get("label_map_suggested"),
            "evaluation": self.evaluation,
            "misclassified_url": self.misclassified_url,
        }


def view(job: BatchJob, now: datetime | None = None) -> JobView:
    now = now or utcnow()
    started = job.started_at or job.created_at
    end = job.finished_at or now
    elapsed = max(0.0, (end - started).total_seconds()) if job.started_at else 0.0
    done = job.status == "done"
    counts = (
        {
            "negative": job.count_negative,
            "neutral": job.count_neutral,
            "positive": job.count_positive,
        }
        if done
        else None
    )
    scored = sum(counts.values()) if counts else 0
    return JobView(
        id=job.id,
        status=job.status,
        filename=job.filename,
        text_column=job.text_column,
        progress=Progress(job.rows_done, job.total_rows, elapsed),
        batch_id=job.batch_id,
        counts=counts,
        mean_confidence=(job.score_sum / scored if scored else (0.0 if done else None)),
        truncated=job.truncated,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        files_expire_at=job.files_expire_at,
        files_expired=job.files_removed,
        details=json.loads(job.details),
        evaluation=json.loads(job.evaluation) if done and job.evaluation else None,
    )


def label_index(label: str) -> int:
    return LABELS.index(label)
