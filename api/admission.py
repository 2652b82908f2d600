"""Admission for REST scoring: at most SCORING_CONCURRENCY scoring requests of a process
run at once; the rest wait their turn in the event loop, holding no thread.

Every request of a process runs its Python under one interpreter lock. Twenty clients
posting texts as fast as they can put twenty threads in line for it, and a History page,
which needs about a millisecond of it, waits behind all of them at every step (its token
check, its query, its reply). With a handful of scoring requests let in at once, the lock
has a short line, the inference loop still gets whole passes to score, and reads go
through between them. Measured (benchmarks/README.md, "Admission"), 20 clients without
pause: History p95 61-66 ms with no limit, 28-29 ms with 6 (the default) for 2-3% fewer
texts scored, 22-23 ms with 4 for 8-9% fewer. The Gradio queue already does this for the
UI's events (its concurrency limit); this does it for the REST routes that score.

Pure ASGI, like api/headers.py. The request body is read before the turn comes (the
route would read it whole anyway), so a client that sends its body slowly waits without
holding a slot.
"""

from __future__ import annotations

import asyncio
import weakref

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The routes whose work is scoring texts (POST only).
SCORING_PATHS = frozenset({"/api/predict", "/api/explain"})


class ScoringAdmission:
    """Lets at most `limit` scoring requests into `app` at once (0: no limit)."""

    def __init__(self, app: ASGIApp, limit: int, paths: frozenset[str] = SCORING_PATHS) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths
        # One semaphore per event loop: an app served twice (tests) gets a new loop.
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _gated(self, scope: Scope) -> bool:
        return (
            self.limit > 0
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] in self.paths
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._gated(scope):
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        if body is None:  # the client left before sending it all
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # after the body: what the client does next (a disconnect)
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.limit)
        async with slots:
            await self.app(scope, replay, send)


async def _whole_body(receive: Receive) -> bytes | None:
    """Every chunk of the request body, joined; None if the client disconnected first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
