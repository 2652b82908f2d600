"""The batch edges: REST /api/batch and the gradio_client /batch endpoint, per user."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator

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


def test_post_scores_and_links_status_and_download(client: TestClient, token: str) -> None:
    response = upload(client, token, "31_injection.csv")
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
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
    body = upload(client, token, "07_semicolon.csv").json()  # type: ignore[attr-defined]
    history = client.get(
        "/api/history", params={"batch_id": body["batch_id"]}, headers=bearer(token)
    )
    assert history.status_code == 200, history.text
    items = history.json()["items"]
    assert len(items) == 3
    assert {(i["source"], i["batch_id"]) for i in items} == {("batch", body["batch_id"])}


def test_text_column_can_be_chosen(client: TestClient, token: str) -> None:
    body = upload(client, token, "09_pipe.csv", text_column="user").json()  # type: ignore[attr-defined]
    assert body["text_column"] == "user"


def test_unreadable_file_is_a_422_with_the_line(client: TestClient, token: str) -> None:
    response = upload(client, token, "18_unclosed_quote.csv")
    assert response.status_code == 422  # type: ignore[attr-defined]
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
    assert client.get("/api/batch/1/results.csv").status_code == 401


def test_another_users_batch_is_a_404(client: TestClient, token: str, services: Services) -> None:
    body = upload(client, token, "01_utf8_plain.csv").json()  # type: ignore[attr-defined]
    other = other_token(client, services)
    for path in (body["status_url"], body["download_url"], f"/api/batch/{body['job_id']}"):
        response = client.get(path, headers=bearer(other))
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.get("/api/batch/999999", headers=bearer(token)).status_code == 404


def test_wait_false_answers_at_once_and_status_shows_progress(
    client: TestClient, token: str
) -> None:
    with (CORPUS / "10_quoted_newlines.csv").open("rb") as f:
        response = client.post(
            "/api/batch?wait=false", headers=bearer(token), files={"file": ("q.csv", f)}
        )
    assert response.status_code == 202
    status_url = response.json()["status_url"]
    deadline = time.monotonic() + 60
    while (status := client.get(status_url, headers=bearer(token)).json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["status"] == "done" and status["progress"]["done"] == 3
    assert client.get(status["download_url"], headers=bearer(token)).status_code == 200


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


def test_gradio_client_batch_needs_a_valid_token(gradio: Client) -> None:
    with pytest.raises(Exception, match=r"(?i)log in"):
        gradio.predict(
            handle_file(str(CORPUS / "01_utf8_plain.csv")), "", "not-a-token", api_name="/batch"
        )
