"""SCORING_CONCURRENCY: REST scoring requests are let in a few at a time; nothing else waits."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.admission import ScoringAdmission
from services import Services, build_services
from settings import Settings
from tests.helpers import PASSWORD, bearer, make_settings, new_username, serving


class Recorder:
    """A downstream ASGI app that stays inside a moment, counting who is in and what body
    each one read."""

    def __init__(self) -> None:
        self.inside = 0
        self.peak = 0
        self.entered = 0
        self.bodies: list[bytes] = []  # in the order the requests got in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.inside += 1
        self.entered += 1
        self.peak = max(self.peak, self.inside)
        self.bodies.append((await receive()).get("body", b""))
        await asyncio.sleep(0.01)
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def scope(path: str, method: str = "POST") -> Scope:
    return {"type": "http", "method": method, "path": path, "headers": []}


async def call(
    app: ScoringAdmission, request: Scope, chunks: tuple[bytes, ...] = (b"",), pause: float = 0
) -> None:
    """`request` with its body sent in `chunks`, `pause` seconds before each."""
    sent = list(chunks)

    async def receive() -> dict[str, Any]:
        if not sent:  # the body is all there: the next thing a client does is leave
            return {"type": "http.disconnect"}
        await asyncio.sleep(pause)
        return {"type": "http.request", "body": sent.pop(0), "more_body": bool(sent)}

    async def send(_message: Any) -> None:
        return None

    await app(request, receive, send)


def run_many(app: ScoringAdmission, requests: list[Scope]) -> None:
    async def many() -> None:
        await asyncio.gather(*(call(app, r) for r in requests))

    asyncio.run(many())


def test_scoring_requests_are_let_in_up_to_the_limit_and_all_are_served() -> None:
    inner = Recorder()
    gate = ScoringAdmission(inner, limit=2)
    run_many(gate, [scope("/api/predict")] * 4 + [scope("/api/explain")] * 3)
    assert inner.entered == 7
    assert inner.peak == 2


@pytest.mark.parametrize(
    "request_scope",
    [scope("/api/history", "GET"), scope("/api/batch"), scope("/api/predict", "GET")],
    ids=["history", "batch upload", "predict GET"],
)
def test_other_requests_never_wait_for_a_scoring_slot(request_scope: Scope) -> None:
    inner = Recorder()
    run_many(ScoringAdmission(inner, limit=1), [request_scope] * 5)
    assert inner.peak == 5


def test_zero_means_no_limit_and_a_new_event_loop_gets_its_own_slots() -> None:
    unlimited = Recorder()
    run_many(ScoringAdmission(unlimited, limit=0), [scope("/api/predict")] * 5)
    assert unlimited.peak == 5
    inner = Recorder()
    gate = ScoringAdmission(inner, limit=3)
    for _ in range(2):  # two asyncio.run calls: two loops, the same app
        run_many(gate, [scope("/api/predict")] * 6)
    assert (inner.entered, inner.peak) == (12, 3)


def test_a_slow_sender_waits_without_holding_a_slot_and_its_body_arrives_whole() -> None:
    inner = Recorder()
    gate = ScoringAdmission(inner, limit=1)

    async def both() -> None:
        slow = call(gate, scope("/api/predict"), (b'{"text": "sl', b'ow"}'), pause=0.2)
        quick = call(gate, scope("/api/predict"), (b'{"text": "quick"}',))
        await asyncio.gather(slow, quick)

    asyncio.run(both())
    assert inner.bodies == [b'{"text": "quick"}', b'{"text": "slow"}']


def test_a_client_that_leaves_before_its_body_is_sent_never_gets_in() -> None:
    inner = Recorder()
    gate = ScoringAdmission(inner, limit=1)

    async def leaving() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(_message: Any) -> None:
            raise AssertionError("nothing is sent to a client that left")

        await gate(scope("/api/predict"), receive, send)

    asyncio.run(leaving())
    assert inner.entered == 0


@pytest.fixture(scope="module")
def one_at_a_time(settings: Settings) -> Iterator[tuple[str, Services]]:
    """The real app on uvicorn with SCORING_CONCURRENCY=1."""
    assert settings.DATABASE_URL is not None
    custom = make_settings(settings.DATABASE_URL, settings.DATA_DIR, SCORING_CONCURRENCY=1)
    services = build_services(custom)
    try:
        with serving(services) as url:
            yield url, services
    finally:
        services.close()


def counting(score: Callable[..., Any], seen: dict[str, int]) -> Callable[..., Any]:
    """`score` unchanged, noting how many calls are inside it at once."""
    lock = threading.Lock()

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with lock:
            seen["inside"] += 1
            seen["peak"] = max(seen["peak"], seen["inside"])
        try:
            return score(*args, **kwargs)
        finally:
            with lock:
                seen["inside"] -= 1

    return wrapped


def test_the_app_scores_rest_requests_one_at_a_time_when_told_to(
    one_at_a_time: tuple[str, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, services = one_at_a_time
    seen = {"inside": 0, "peak": 0}
    monkeypatch.setattr(services.scoring, "score", counting(services.scoring.score, seen))
    username = new_username()
    services.accounts.register(username, PASSWORD)
    with httpx.Client(base_url=url, timeout=60) as http:
        reply = http.post("/api/auth/token", data={"username": username, "password": PASSWORD})
        auth = bearer(reply.json()["access_token"])
        texts = [f"review {i}: the staff were lovely and the food was great" for i in range(8)]

        def post(text: str) -> int:
            return http.post("/api/predict", json={"text": text}, headers=auth).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(post, texts))
        history = http.get("/api/history", params={"limit": 20}, headers=auth)
    assert statuses == [200] * 8
    assert seen["peak"] == 1
    assert len(history.json()["items"]) == 8
