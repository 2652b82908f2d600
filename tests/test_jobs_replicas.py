"""Two web replicas (PostgreSQL, BATCH_WORKERS=1 each) behind HAProxy with cookie affinity:
the Batch tab in a real browser and a gradio_client script work through the balancer, and
a job is the same job whichever replica is asked."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import PASSWORD, FreshDatabase, new_username, skip_or_fail
from tests.processes import Api, Process, Processes, result_ids, shared_model_cache, write_csv

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROWS = 300
DONE_S = 180
BACKENDS = ("web1", "web2")


@dataclass
class Replicas:
    processes: Processes
    web1: Process
    web2: Process
    balancer: Process

    @property
    def url(self) -> str:
        return self.balancer.url


@pytest.fixture(scope="module")
def replicas(
    database: FreshDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    if database.backend != "postgresql":
        skip_or_fail("REQUIRE_POSTGRES", "replicas sharing batch jobs need PostgreSQL")
    cache = shared_model_cache(tmp_path_factory)
    processes = Processes(tmp_path_factory.mktemp("replicas"), database.url, cache)
    try:
        web1 = processes.web("web1", BATCH_WORKERS="1", BATCH_CHUNK_ROWS="100")
        processes.ready(web1)  # it migrates the fresh database; then the other starts
        web2 = processes.web("web2", BATCH_WORKERS="1", BATCH_CHUNK_ROWS="100")
        processes.ready(web2)
        assert web1.port is not None and web2.port is not None
        balancer = processes.haproxy("haproxy", [("web1", web1.port), ("web2", web2.port)])
        found = Replicas(processes, web1, web2, balancer)
        wait_for_balancer(found)
        yield found
    finally:
        processes.close()


def wait_for_balancer(replicas: Replicas) -> None:
    """Until HAProxy answers through a backend (its health checks passed)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not replicas.balancer.alive():
            pytest.fail(f"HAProxy exited\n{replicas.balancer.tail()}")
        try:
            if httpx.get(f"{replicas.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"HAProxy did not answer\n{replicas.processes.tails()}")


def test_the_balancer_reaches_both_replicas_and_pins_a_client(replicas: Replicas) -> None:
    pinned = set()
    for _ in range(6):  # round robin: a client without the cookie is given each in turn
        answer = httpx.get(f"{replicas.url}/healthz", timeout=10)
        assert answer.status_code == 200
        pinned.add(answer.cookies.get("SERVERID"))
    assert pinned == set(BACKENDS)
    with httpx.Client(base_url=replicas.url, timeout=10) as client:  # keeps the cookie
        first = client.get("/healthz").cookies.get("SERVERID")
        assert first in BACKENDS
        for _ in range(4):
            answer = client.get("/healthz")
            assert answer.status_code == 200
            assert "SERVERID" not in answer.cookies  # `indirect`: not set again once pinned


def test_a_job_submitted_to_one_replica_is_the_same_job_on_the_other(
    replicas: Replicas, tmp_path: Path
) -> None:
    on_1 = Api.new_user(replicas.web1.url)
    on_2 = on_1.on(replicas.web2.url)
    job = on_1.submit(write_csv(tmp_path / "reviews.csv", ROWS))
    shown = on_2.job(job["job_id"])
    assert shown["job_id"] == job["job_id"]
    assert shown["filename"] == "reviews.csv"
    assert shown["progress"]["total"] == ROWS
    done = on_2.wait_done(job["job_id"], DONE_S, replicas.processes.tails)
    assert on_1.job(done["batch_id"])["status"] == "done"
    assert on_2.history_count(done["batch_id"]) == ROWS
    assert on_2.download(done["batch_id"]) == on_1.download(done["batch_id"])
    assert [item["job_id"] for item in on_2.http.get("/api/batches").json()["items"]] == [
        job["job_id"]
    ]


@pytest.mark.browser
def test_the_batch_tab_through_the_balancer(browser, replicas: Replicas, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    username = Api.new_user(replicas.url).username
    page = browser.new_page(accept_downloads=True, viewport={"width": 1100, "height": 900})
    page.set_default_timeout(90_000)
    page.goto(replicas.url)
    page.locator("#login-username textarea, #login-username input").first.fill(username)
    page.locator("#login-password input").fill(PASSWORD)
    page.locator("#login-button").click()
    expect(page.locator("#whoami textarea, #whoami input").first).to_have_value(username)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("SERVERID") in BACKENDS  # the browser is pinned to one replica

    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-file input[type=file]").set_input_files(
        str(write_csv(tmp_path / "reviews.csv", ROWS))
    )
    expect(page.locator("#batch-info")).to_contain_text(f"{ROWS:,} rows")
    expect(page.locator("#batch-column input").first).to_have_value("comment")
    page.locator("#batch-run").click()
    status = page.locator("#batch-status textarea, #batch-status input").first
    expect(status).to_have_value(re.compile(r"^Done: batch \d+ is in your history\.$"))
    expect(page.locator("#batch-summary")).to_contain_text(f"{ROWS:,} rows scored")

    with page.expect_download() as caught:
        page.locator("#batch-download a").first.click()
    saved = tmp_path / "downloaded.csv"
    caught.value.save_as(saved)
    with saved.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["id"] for row in rows] == [str(i) for i in range(ROWS)]
    assert {row["label"] for row in rows} <= {"negative", "neutral", "positive"}
    page.close()


def test_gradio_client_through_the_balancer(replicas: Replicas, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    username = new_username()
    created = httpx.post(
        f"{replicas.url}/api/auth/register",
        json={"username": username, "password": PASSWORD},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    client = Client(replicas.url, verbose=False)  # keeps the SERVERID cookie it was given
    assert client.cookies.get("SERVERID") in BACKENDS
    token = client.predict(username, PASSWORD, api_name="/login")
    path = write_csv(tmp_path / "reviews.csv", ROWS)

    job = client.predict(handle_file(str(path)), "", token, api_name="/batch_submit")
    assert job["status"] in ("queued", "running", "done")
    deadline = time.monotonic() + DONE_S
    while (shown := client.predict(job["job_id"], token, api_name="/batch_status"))[
        "status"
    ] != "done":
        assert shown["status"] in ("queued", "running"), shown
        assert time.monotonic() < deadline, f"{shown}\n{replicas.processes.tails()}"
        time.sleep(0.5)
    assert shown["scored"] == ROWS
    listed = client.predict(token, api_name="/batches")
    assert job["job_id"] in [item["job_id"] for item in listed]

    done, results = client.predict(handle_file(str(path)), "", token, api_name="/batch")
    assert done["status"] == "done" and done["scored"] == ROWS
    assert result_ids(Path(results).read_bytes()) == [str(i) for i in range(ROWS)]
