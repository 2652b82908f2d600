"""Overload: a full Gradio queue answers "busy" at once instead of making callers wait.

The real server with the queue shrunk to 1 running + 1 waiting call per event, then a
crowd of `/predict` calls at the same moment (benchmarks/load.py does the same at full
size). Every call either is served or gets HTTP 503 "Queue is full"; none fails
otherwise and none is left hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from services import Services
from tests.helpers import PASSWORD, new_username

pytestmark = pytest.mark.slow

CROWD = 8
REVIEW = " ".join(["The room was clean but the staff were slow and the food was cold."] * 6)


@pytest.fixture(scope="module", autouse=True)
def small_queue() -> Iterator[None]:
    """Set before `live_server` builds the UI (module autouse fixtures come first)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ui.app.QUEUE_CONCURRENCY", 1)
        patch.setattr("ui.app.QUEUE_MAX_SIZE", 1)
        yield


async def call_predict(client: httpx.AsyncClient, token: str) -> tuple[int, str]:
    """Join the queue, then read the event stream to its end: (join status, outcome)."""
    joined = await client.post("/gradio_api/call/predict", json={"data": [[REVIEW] * 40, token]})
    if joined.status_code != 200:
        return joined.status_code, joined.json()["detail"]
    stream = await client.get(f"/gradio_api/call/predict/{joined.json()['event_id']}")
    events = [
        line.split(":", 1)[1].strip()
        for line in stream.text.splitlines()
        if line.startswith("event:")
    ]
    return 200, events[-1] if events else "no event"


def test_a_full_queue_answers_busy_and_serves_the_rest(
    live_server: str, services: Services
) -> None:
    username = new_username()
    services.accounts.register(username, PASSWORD)
    token = services.accounts.login(username, PASSWORD).token.access_token

    async def crowd() -> list[tuple[int, str]]:
        async with httpx.AsyncClient(base_url=live_server, timeout=120) as client:
            return await asyncio.gather(*(call_predict(client, token) for _ in range(CROWD)))

    results = asyncio.run(crowd())
    served = [outcome for status, outcome in results if status == 200]
    busy = [outcome for status, outcome in results if status == 503]
    assert len(served) + len(busy) == CROWD, results
    assert served and all(outcome == "complete" for outcome in served), results
    assert busy and all(outcome.startswith("Queue is full") for outcome in busy), results
