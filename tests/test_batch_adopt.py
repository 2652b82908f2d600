"""A backup restored into the other kind of database: `adopt_parts` moves the stored batch
parts to where this database keeps them, and the download works as before the move.

On SQLite the parts arrive as `batch_blobs` rows (from a PostgreSQL backup) and become
files; on PostgreSQL they arrive as files (from a development-mode backup) and become rows.
"""

from __future__ import annotations

from pathlib import Path

from batch.adopt import adopt_parts
from batch.blobs import DatabaseBlobStore, FileBlobStore
from batch.service import RESULTS_FOLDER
from services import Services
from settings import Settings
from storage import jobs
from tests.helpers import new_username


def test_parts_from_the_other_backend_are_moved_and_download_the_same(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    user_id = services.accounts.register(new_username(), "correct horse battery").id
    upload = tmp_path / "moved.csv"
    upload.write_text("review\n" + "".join(f"rather nice {i}\n" for i in range(30)), "utf-8")
    done = services.batches.run(user_id, upload, "moved.csv")
    before = services.batches.save_results(user_id, done.id, tmp_path / "before.csv")

    files = FileBlobStore(settings.DATA_DIR / RESULTS_FOLDER)
    rows = DatabaseBlobStore()
    names = [f"in-{0:05d}", f"out-{0:05d}"]
    with services.db.session_scope() as session:  # lay the parts out as the other backend
        for name in names:
            if services.db.backend == "postgresql":
                data = rows.get(session, user_id, done.id, name)
                files.put(session, user_id, done.id, name, data)
            else:
                data = files.get(session, user_id, done.id, name)
                rows.put(session, user_id, done.id, name, data)
        if services.db.backend == "postgresql":
            jobs.delete_blobs(session, done.id)
        else:
            files.remove_job(session, user_id, done.id)

    assert adopt_parts(services.db, settings.DATA_DIR / RESULTS_FOLDER) == len(names)

    after = services.batches.save_results(user_id, done.id, tmp_path / "after.csv")
    assert after.read_bytes() == before.read_bytes()
    with services.db.session_scope() as session:
        left_as_rows = jobs.blob_bytes(session, done.id)
    left_as_files = files.folder(user_id, done.id).is_dir() and any(
        files.folder(user_id, done.id).iterdir()
    )
    if services.db.backend == "postgresql":
        assert left_as_rows > 0 and not left_as_files
    else:
        assert left_as_rows == 0 and left_as_files
