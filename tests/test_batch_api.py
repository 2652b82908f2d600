"""The batch edges: REST /api/batch and the gradio_client /batch endpoint, per user."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any
from unittest.mock import ANY

import pytest
from fastapi.testclient import TestClient
from gradio_client import Client, handle_file

from batch.export import unsanitize
from services import Services
from tests.helpers import PASSWORD, ROOT, api_login, bearer, new_username

CORPUS = ROOT / "tests" / "data" / "csv"


@pytest.fixture
def token(client: TestClient, user: tuple[str, str]) -> str:
    return api_login(client, user[0])


def other_token(client: TestClient, services: Services) -> str:
    name = new_username()
    services.accounts.register(name, PASSWORD)
    return api_login(client, name)


def upload(client: TestClient, token: str, name: str, **data: str) -> object:
    with (CORPUS / name).open("rb") as f:
        return client.post(
            "/api/batch", headers=bearer(token), files={"file": (name, f)}, data=data
        )


def done(client: TestClient, token: str, response: object) -> dict[str, object]:
    """Follow a 202's status_url until the job ends; its last status."""
    assert response.status_code == 202, response.text  # type: ignore[attr-defined]
    status_url = response.json()["status_url"]  # type: ignore[attr-defined]
    deadline = time.monotonic() + 120
    while (status := client.get(status_url, headers=bearer(token)).json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return status  # type: ignore[no-any-return]


def test_post_queues_then_status_links_the_download(client: TestClient, token: str) -> None:
    response = upload(client, token, "31_injection.csv")
    queued = response.json()  # type: ignore[attr-defined]
    assert queued["status"] == "queued" and queued["job_id"]
    assert queued["status_url"] == f"/api/batch/{queued['job_id']}"
    body: dict[str, Any] = done(client, token, response)
    assert body["status"] == "done"
    assert body["scored"] == 4 and sum(body["counts"].values()) == 4
    assert body["download_url"] == f"/api/batch/{body['batch_id']}/results.csv"
    status = client.get(body["status_url"], headers=bearer(token)).json()
    assert status["status"] == "done"
    assert status["progress"]["done"] == status["progress"]["total"] == 4
    download = client.get(body["download_url"], headers=bearer(token))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "31_injection-results.csv" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    texts = [row[1] for row in rows[1:]]
    assert texts == ['\'=HYPERLINK("http://x","click")', "'+1 great", "'-bad", "'@SUM(A1)"]
    assert unsanitize(texts[0]) == '=HYPERLINK("http://x","click")'


def test_history_filters_by_batch(client: TestClient, token: str) -> None:
    body = done(client, token, upload(client, token, "07_semicolon.csv"))
    history = client.get(
        "/api/history", params={"batch_id": body["batch_id"]}, headers=bearer(token)
    )
    assert history.status_code == 200, history.text
    items = history.json()["items"]
    assert len(items) == 3
    assert {(i["source"], i["batch_id"]) for i in items} == {("batch", body["batch_id"])}


def test_text_column_can_be_chosen(client: TestClient, token: str) -> None:
    body = done(client, token, upload(client, token, "09_pipe.csv", text_column="user"))
    assert body["text_column"] == "user" and body["status"] == "done"


def test_unreadable_file_is_a_422_with_the_line(
    client: TestClient, token: str, services: Services
) -> None:
    before = len(client.get("/api/batches", headers=bearer(token)).json()["items"])
    response = upload(client, token, "18_unclosed_quote.csv")
    assert response.status_code == 422  # type: ignore[attr-defined]
    after = client.get("/api/batches", headers=bearer(token)).json()["items"]
    assert len(after) == before  # nothing stored
    assert response.json()["error"] == {  # type: ignore[attr-defined]
        "code": "csv_format_error",
        "message": 'Line 3: a quoted field opened here is never closed: a " is missing, '
        'or a " inside a text must be written as "".',
    }


def test_file_of_only_numbers_is_a_422_and_scores_nothing(client: TestClient, token: str) -> None:
    response = upload(client, token, "37_only_numbers.csv")
    assert response.status_code == 422  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "csv_format_error"
    assert error["message"].startswith("No column holds text: id, price.")
    history = client.get("/api/history", params={"search": "1"}, headers=bearer(token))
    assert history.json()["items"] == []


def test_every_route_needs_a_token(client: TestClient) -> None:
    with (CORPUS / "01_utf8_plain.csv").open("rb") as f:
        assert client.post("/api/batch", files={"file": ("a.csv", f)}).status_code == 401
    assert client.get("/api/batch/1").status_code == 401
    assert client.get("/api/batches").status_code == 401
    assert client.post("/api/batch/1/cancel").status_code == 401
    assert client.get("/api/batch/1/results.csv").status_code == 401


def test_another_users_batch_is_a_404(client: TestClient, token: str, services: Services) -> None:
    body = done(client, token, upload(client, token, "01_utf8_plain.csv"))
    other = other_token(client, services)
    for path in (body["status_url"], body["download_url"], f"/api/batch/{body['batch_id']}"):
        response = client.get(path, headers=bearer(other))
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    cancel = client.post(f"/api/batch/{body['job_id']}/cancel", headers=bearer(other))
    assert cancel.status_code == 404
    assert client.get("/api/batches", headers=bearer(other)).json()["items"] == []
    assert client.get("/api/batch/999999", headers=bearer(token)).status_code == 404


def test_batches_lists_the_callers_jobs_newest_first_in_pages(
    client: TestClient, services: Services
) -> None:
    token = other_token(client, services)
    ids = [done(client, token, upload(client, token, "10_quoted_newlines.csv"))["job_id"]
           for _ in range(3)]  # fmt: skip
    first = client.get("/api/batches", params={"limit": 2}, headers=bearer(token)).json()
    assert [j["job_id"] for j in first["items"]] == ids[::-1][:2]
    more = client.get(
        "/api/batches", params={"limit": 2, "before": first["next_before"]}, headers=bearer(token)
    ).json()
    assert [j["job_id"] for j in more["items"]] == [ids[0]] and more["next_before"] is None
    assert first["items"][0]["progress"] == {"done": 3, "total": 3, "rows_per_s": ANY,
                                             "eta_s": 0.0}  # fmt: skip


def test_cancel_of_a_finished_job_is_a_404(client: TestClient, token: str) -> None:
    body = done(client, token, upload(client, token, "10_quoted_newlines.csv"))
    response = client.post(f"/api/batch/{body['job_id']}/cancel", headers=bearer(token))
    assert response.status_code == 404
    assert client.get(body["status_url"], headers=bearer(token)).json()["status"] == "done"


@pytest.fixture(scope="module")
def gradio(live_server: str) -> Iterator[Client]:
    client = Client(live_server, verbose=False)
    yield client
    client.close()


def test_gradio_client_batch(gradio: Client, client: TestClient, token: str) -> None:
    summary, results = gradio.predict(
        handle_file(str(CORPUS / "12_empty_text_rows.csv")), "", token, api_name="/batch"
    )
    assert summary["scored"] == 2 and summary["empty_rows"] == 2
    assert summary["empty_lines"] == [3, 4]
    with open(results, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert [row[1] for row in rows[1:]] == ["good", "", "   ", "bad"]
    assert client.get(summary["download_url"], headers=bearer(token)).status_code == 200


def test_gradio_client_submit_then_status(gradio: Client, token: str) -> None:
    queued = gradio.predict(
        handle_file(str(CORPUS / "12_empty_text_rows.csv")), "", token, api_name="/batch_submit"
    )
    assert queued["status"] == "queued"
    deadline = time.monotonic() + 120
    while (status := gradio.predict(queued["job_id"], token, api_name="/batch_status"))[
        "status"
    ] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status["status"] == "done" and status["scored"] == 2
    listed = gradio.predict(token, api_name="/batches")
    assert listed[0]["job_id"] == queued["job_id"]
    with pytest.raises(Exception, match="You have no batch"):
        gradio.predict("0" * 24, token, api_name="/batch_status")


def test_gradio_client_batch_needs_a_valid_token(gradio: Client) -> None:
    with pytest.raises(Exception, match=r"(?i)log in"):
        gradio.predict(
            handle_file(str(CORPUS / "01_utf8_plain.csv")), "", "not-a-token", api_name="/batch"
        )
