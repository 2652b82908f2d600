"""Batches end to end below the edges: the CSV corpus, all or nothing, cancel, round trips.

Runs on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set (the `services` fixture).
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from batch.export import RESULT_COLUMNS, read_results, result_header
from batch.ingest import Limits
from batch.jobs import JobView, Progress
from batch.service import BatchService
from errors import BatchCancelled, BatchFailed, CsvFormatError, Gone, NotFound
from services import Services
from storage import predictions
from storage.models import Batch as BatchRow
from storage.models import BatchJob, Prediction
from tests.helpers import ROOT, new_username, stored_parts

CORPUS = ROOT / "tests" / "data" / "csv"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def user_id(services: Services) -> int:
    return services.accounts.register(new_username(), "correct horse battery").id


def table_counts(services: Services) -> tuple[int, int]:
    with services.db.session_scope() as session:
        batches = session.scalar(select(func.count()).select_from(BatchRow)) or 0
        rows = session.scalar(select(func.count()).select_from(Prediction)) or 0
    return batches, rows


def small_service(services: Services, tmp_path: Path, **options: Any) -> BatchService:
    """The module's batch service (same engine and workers) with other limits or chunks."""
    base = services.batches
    return BatchService(
        services.db, base.work, base.blobs, base.engine, base.limits,
        upload_dir=tmp_path / "uploads", **options,
    )  # fmt: skip


def results_of(service: BatchService, user_id: int, job: JobView, tmp_path: Path) -> Path:
    return service.save_results(user_id, job.id, tmp_path / f"{job.id}.csv")


def test_the_corpus_has_at_least_25_files_each_with_an_outcome() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".tsv")}
    assert len(files) >= 25
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name: str, services: Services, user_id: int, tmp_path: Path) -> None:
    expected = EXPECTED[name]
    before = table_counts(services)
    if "error" in expected:
        with pytest.raises(CsvFormatError) as caught:
            services.batches.run(user_id, CORPUS / name, name)
        assert caught.value.message == expected["error"]
        assert table_counts(services) == before
        return
    job = services.batches.run(user_id, CORPUS / name, name)
    summary = job.to_dict()
    assert summary["scored"] == expected["scored"]
    assert summary["empty_rows"] == expected["empty_rows"]
    assert summary["truncated"] == expected["truncated"]
    assert summary["encoding"] == expected["encoding"]
    assert summary["delimiter"] == expected["delimiter"]
    assert summary["text_column"] == expected["text_column"]
    assert sum(summary["counts"].values()) == summary["scored"]
    assert table_counts(services) == (before[0] + 1, before[1] + summary["scored"])
    header, rows = read_results(results_of(services.batches, user_id, job, tmp_path))
    ours = len(RESULT_COLUMNS)
    assert header == result_header(header[:-ours])  # ours get a suffix if the input has it
    assert [name.split("_")[0] for name in header[-ours:]] == list(RESULT_COLUMNS)
    assert len(rows) == summary["scored"] + summary["empty_rows"]  # skipped rows stay, unlabelled
    with services.db.session_scope() as session:
        stored = session.scalars(
            select(Prediction).where(Prediction.batch_id == job.batch_id)
        ).all()
        assert {p.source for p in stored} == {"batch"}
        assert all(p.user_id == user_id for p in stored)


def test_over_the_row_limit_is_refused_before_scoring(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    service = small_service(services, tmp_path)
    service.limits = Limits(max_bytes=10**6, max_rows=3, max_chars=100)
    path = tmp_path / "four.csv"
    path.write_text("text\na\nb\nc\nd\n", encoding="utf-8")
    before = table_counts(services)
    with pytest.raises(CsvFormatError, match=r"^Line 5: The file has more than 3 data rows"):
        service.run(user_id, path, "four.csv")
    service.limits = Limits(max_bytes=10, max_rows=3, max_chars=100)
    with pytest.raises(CsvFormatError, match=r"the limit is 0 MB \(MAX_UPLOAD_MB\)"):
        service.run(user_id, path, "four.csv")
    assert table_counts(services) == before


def test_a_chosen_text_column_wins_and_an_unknown_one_is_explained(
    services: Services, user_id: int
) -> None:
    path = CORPUS / "09_pipe.csv"
    job = services.batches.run(user_id, path, "pipe.csv", text_column="USER")
    assert job.text_column == "user"
    with pytest.raises(CsvFormatError, match=r"There is no column 'nope'\. The columns are: id"):
        services.batches.run(user_id, path, "pipe.csv", text_column="nope")


def reviews(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "reviews.csv"
    lines = ["id,review"] + [f'{i},"Review number {i}, it was fine"' for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("k", [1, 3])
def test_a_failure_writing_the_kth_chunk_leaves_nothing(
    services: Services, user_id: int, tmp_path: Path, k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database itself refuses the k-th chunk of predictions (a label its CHECK
    constraint rejects), whichever way chunks are written (COPY on PostgreSQL, INSERT
    elsewhere): the job fails and leaves no rows and no stored parts."""
    service = small_service(services, tmp_path, chunk_rows=7)
    monkeypatch.setattr(service.work, "insert_chunk", 10)
    write_chunk = predictions._write_chunk
    calls = 0

    def corrupt_kth(connection: Any, chunk: list[dict[str, Any]]) -> None:
        nonlocal calls
        calls += 1
        if calls == k:
            chunk = [*chunk[:-1], {**chunk[-1], "label": "corrupt"}]
        write_chunk(connection, chunk)

    monkeypatch.setattr(predictions, "_write_chunk", corrupt_kth)
    before = table_counts(services)
    started: list[JobView] = []
    with pytest.raises(BatchFailed, match="nothing was saved"):
        service.run(user_id, reviews(tmp_path, 35), "reviews.csv", on_start=started.append)
    assert calls == k
    assert table_counts(services) == before
    job = service.job(user_id, started[0].id)
    assert job.status == "failed" and job.batch_id is None
    assert stored_parts(services, job.id) == 0  # no stored upload or results either


def test_cancel_stops_scoring_and_leaves_nothing(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    service = small_service(services, tmp_path, chunk_rows=20)
    seen: list[Progress] = []
    started: list[JobView] = []

    def cancel_after_first_chunk(progress: Progress) -> None:
        seen.append(progress)
        if progress.done:
            service.cancel(user_id)

    before = table_counts(services)
    with pytest.raises(BatchCancelled, match="nothing was saved"):
        service.run(
            user_id,
            reviews(tmp_path, 4000),
            "reviews.csv",
            on_progress=cancel_after_first_chunk,
            on_start=started.append,
        )
    job = service.job(user_id, started[0].id)
    assert job.status == "cancelled"
    assert 0 < seen[-1].done < 4000 and seen[-1].total == 4000  # stopped part-way
    assert table_counts(services) == before
    time.sleep(1)  # a chunk being scored when the cancel came is dropped, not saved
    assert table_counts(services) == before
    assert stored_parts(services, job.id) == 0
    assert service.cancel(user_id, job.id) == 0  # over: nothing left to cancel


def test_progress_reports_rows_rate_and_time_left(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    service = small_service(services, tmp_path, chunk_rows=8)
    seen: list[Progress] = []
    job = service.run(user_id, reviews(tmp_path, 20), "r.csv", on_progress=seen.append)
    assert {p.total for p in seen} == {20}
    assert {p.done for p in seen} <= {0, 8, 16, 20}  # progress moves a chunk at a time
    assert seen[-1].done == 20 and seen[-1].eta_s == 0
    assert " / 20 rows · " in seen[-1].describe() and "s left" in seen[-1].describe()
    status = service.job(user_id, str(job.batch_id))
    assert (status.status, status.progress.done, status.progress.total) == ("done", 20, 20)
    with services.db.session_scope() as session:
        assert session.get(BatchJob, job.id).chunk_count == 3  # type: ignore[union-attr]


def test_a_job_is_queued_at_once_and_followed_by_its_id(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    service = small_service(services, tmp_path, chunk_rows=50)
    queued = service.submit(user_id, reviews(tmp_path, 200), "q.csv")
    assert queued.status == "queued" and queued.progress.total == 200
    assert queued.batch_id is None and queued.download_url is None
    done = service.wait(user_id, queued.id)
    assert done.status == "done" and done.progress.done == 200
    assert done.download_url == f"/api/batch/{done.batch_id}/results.csv"
    assert [j.id for j in service.jobs(user_id, limit=1)] == [queued.id]  # newest first


def test_expired_files_are_removed_and_the_download_says_so(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    service = small_service(services, tmp_path)
    job = service.run(user_id, reviews(tmp_path, 5), "old.csv")
    service.remove_expired(job.files_expire_at - timedelta(seconds=1))  # older jobs may go
    assert not service.job(user_id, job.id).files_expired
    assert service.remove_expired(job.files_expire_at + timedelta(seconds=1)) >= 1
    shown = service.job(user_id, job.id)
    assert shown.files_expired and shown.download_url is None
    with pytest.raises(Gone, match="expired"):
        service.results(user_id, job.batch_id)  # type: ignore[arg-type]
    assert stored_parts(services, job.id) == 0
    with services.db.session_scope() as session:  # history rows stay
        kept = session.scalar(select(func.count()).where(Prediction.batch_id == job.batch_id))
    assert kept == 5


def test_another_users_batch_is_not_found(services: Services, user_id: int) -> None:
    job = services.batches.run(user_id, CORPUS / "01_utf8_plain.csv", "a.csv")
    other = services.accounts.register(new_username(), "correct horse battery").id
    for ask in (str(job.batch_id), job.id):
        with pytest.raises(NotFound, match="You have no batch"):
            services.batches.job(other, ask)
        with pytest.raises(NotFound, match="You have no batch"):
            services.batches.results(other, ask)
        assert services.batches.cancel(other, ask) == 0
    assert services.batches.job(user_id, job.id).batch_id == job.batch_id


# Any text a spreadsheet cell can hold, except NUL and lone surrogates (not encodable).
cell_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=60
).filter(lambda s: s.strip() != "")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(cell_text, min_size=1, max_size=6),
    other=st.text(max_size=10).map(lambda s: s.replace("\x00", "")),
)
def test_any_text_round_trips_through_upload_score_download(
    services: Services,
    user_id: int,
    tmp_path_factory: pytest.TempPathFactory,
    texts: list[str],
    other: str,
) -> None:
    import csv

    directory = tmp_path_factory.mktemp("roundtrip")
    path = directory / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(["text", "other"])
        writer.writerows([t, other] for t in texts)
    job = services.batches.run(user_id, path, "in.csv", text_column="text")
    header, rows = read_results(results_of(services.batches, user_id, job, directory))
    assert header == result_header(["text", "other"])
    assert [row[:2] for row in rows] == [[t, other] for t in texts]
    assert all(row[2] in ("negative", "neutral", "positive") for row in rows)


def test_iterating_keeps_only_one_chunk(services: Services, tmp_path: Path) -> None:
    from batch.ingest import iter_chunks

    path = reviews(tmp_path, 50)
    info = services.batches.inspect(path)
    sizes = [len(chunk) for chunk in iter_chunks(path, info, services.batches.limits, 16)]
    assert sizes == [16, 16, 16, 2]


def test_stored_files_go_with_the_account(services: Services, tmp_path: Path) -> None:
    service = small_service(services, tmp_path)
    owner = services.accounts.register(new_username(), "correct horse battery")
    other = services.accounts.register(new_username(), "correct horse battery").id
    kept = service.run(other, reviews(tmp_path, 3), "kept.csv")
    gone = service.run(owner.id, reviews(tmp_path, 3), "gone.csv")
    assert stored_parts(services, gone.id) > 0
    token = services.accounts.login(owner.username, "correct horse battery").token
    services.accounts.delete_account(token.access_token, "correct horse battery")
    assert stored_parts(services, gone.id) == 0  # rows, parts and files went with it
    assert stored_parts(services, kept.id) > 0
    assert service.remove_orphaned_results() == 0
    service.save_results(other, kept.id, tmp_path / "kept-results.csv")  # still there


def test_a_chosen_column_is_scored_even_when_it_holds_only_numbers(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    """Found by the round-trip property: texts like "0" in the column the user chose."""
    path = tmp_path / "numbers.csv"
    path.write_text("text,other\n0,1\n2.5,3\n", encoding="utf-8")
    with pytest.raises(CsvFormatError, match="No column holds text"):
        services.batches.submit(user_id, path, "numbers.csv")
    job = services.batches.run(user_id, path, "numbers.csv", text_column="text")
    assert job.status == "done" and job.progress.done == 2
