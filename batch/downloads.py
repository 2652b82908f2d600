"""What every download of a batch checks first: the job is done and its parts are kept."""

from __future__ import annotations

from batch.blobs import BlobStore, output_name
from batch.jobs import JobView
from errors import Gone, NotFound
from storage import jobs
from storage.engine import Database
from storage.models import BatchJob


def stored_job(db: Database, blobs: BlobStore, user_id: int, shown: JobView) -> BatchJob:
    """The done job's row (detached from its session) whose stored parts are still there;
    NotFound (not done, or a part missing) or Gone (expired) otherwise, before anything
    is streamed."""
    if shown.status != "done":
        raise NotFound(
            f"Batch {shown.batch_id or shown.id} has no results yet (it is {shown.status})."
        )
    if shown.files_expired:
        raise Gone(
            f"The results file of batch {shown.batch_id} has expired: stored files are "
            "kept BATCH_FILES_DAYS days. Its rows are still in your history (export "
            "them there)."
        )
    with db.session_scope() as session:
        job = jobs.get(session, shown.id, user_id)
        assert job is not None
        blobs.get(session, user_id, job.id, output_name(0))
        session.expunge(job)
    return job
