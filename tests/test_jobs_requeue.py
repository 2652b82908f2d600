"""A job whose queued work was lost (restored from a backup, which holds the job tables but
not the engine's) is picked up again when a process with workers starts.

Runs on SQLite (the thread engine's queue lives in memory: a new process resumes from
the job tables) and on PostgreSQL (procrastinate's tasks of the job are deleted, as a
restore into a fresh database leaves them).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from batch.procrastinate_engine import QUEUE
from services import Services, build_batches
from settings import Settings
from storage.models import Prediction
from tests.helpers import new_username


def test_a_job_without_its_queued_tasks_completes_after_the_next_start(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    user_id = services.accounts.register(new_username(), "correct horse battery").id
    idle = build_batches(settings, services.db, services.scheduler, workers=0)
    idle.chunk_rows = 7
    upload = tmp_path / "lost.csv"
    upload.write_text("review\n" + "".join(f"quite good {i}\n" for i in range(40)), "utf-8")
    job = idle.submit(user_id, upload, "lost.csv")
    assert job.status == "queued"
    if services.db.backend == "postgresql":
        with services.db.session_scope() as session:
            session.execute(
                text(
                    "DELETE FROM procrastinate_jobs WHERE queue_name = :q AND args->>'job_id' = :j"
                ),
                {"q": QUEUE, "j": job.id},
            )
    restarted = build_batches(settings, services.db, services.scheduler, workers=1)
    restarted.start()
    try:
        done = restarted.wait(user_id, job.id, timeout_s=120)
    finally:
        restarted.close()
    assert done.status == "done"
    with services.db.session_scope() as session:
        query = (
            select(func.count()).select_from(Prediction).where(Prediction.batch_id == done.batch_id)
        )
        assert session.scalar(query) == 40  # every row once
