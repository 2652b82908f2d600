"""One inference loop per process, with two lanes: interactive requests before batch work.

Requests hand their texts to a queue; a single thread takes what is waiting (interactive
first, up to a budget of rows and characters; waiting a few milliseconds for more to
join) and runs one model pass, so concurrent users share passes instead of fighting over
the cores. Batch chunks go in the batch lane and are cut into small passes, so an
interactive request waits for at most one of them.

    scheduler = InferenceScheduler(model)
    scheduler.predict(["Great!"])                       # interactive lane
    scheduler.predict(texts, lane=BATCH, max_chars=None)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentiment.inference import Prediction
    from sentiment.model import SentimentModel

INTERACTIVE, BATCH = "interactive", "batch"
LANES = (INTERACTIVE, BATCH)
DEFAULT_MAX_ROWS = 64  # texts in one interactive pass
DEFAULT_MAX_CHARS = 24_000  # characters in one interactive pass (~6,000 tokens)
# A batch pass is about one forward pass of `predict` (32 rows, ~1,024 tokens): the most
# an interactive request arriving meanwhile waits for, at no cost to batch throughput.
BATCH_MAX_ROWS = 32
BATCH_MAX_CHARS = 4_000
DEFAULT_GATHER_S = 0.002  # how long a small interactive pass waits for company


@dataclass
class _Request:
    texts: Sequence[str]
    lane: str
    taken: int = 0  # texts handed to a pass so far
    results: list[Prediction | None] = field(default_factory=list)
    remaining: int = 0
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.results = [None] * len(self.texts)
        self.remaining = len(self.texts)


class InferenceScheduler:
    """Runs every model pass of the process on one thread; thread-safe `predict`."""

    def __init__(
        self,
        model: SentimentModel,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_chars: int = DEFAULT_MAX_CHARS,
        gather_s: float = DEFAULT_GATHER_S,
    ) -> None:
        self.model = model
        self.max_rows = max_rows
        self.max_chars = max_chars
        self.gather_s = gather_s
        self._lanes: dict[str, deque[_Request]] = {lane: deque() for lane in LANES}
        self._wake = threading.Condition()
        self._closed = False
        self.passes = 0  # model passes run; read by tests and benchmarks
        self._thread = self._start()

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="inference", daemon=True)
        thread.start()
        return thread

    def predict(
        self, texts: Sequence[str], *, lane: str = INTERACTIVE, max_chars: int | None = 5_000
    ) -> list[Prediction]:
        """One Prediction per text, in input order; InvalidInput for a bad text (raised
        here, before anything is queued)."""
        from sentiment.inference import validate

        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}")
        checked = validate(texts, max_chars)
        if not checked:
            return []
        request = _Request(checked, lane)
        with self._wake:
            if self._closed:  # closed, then used again (an app served twice): start anew
                self._thread.join(timeout=30)
                self._closed = False
                self._thread = self._start()
            self._lanes[lane].append(request)
            self._wake.notify()
        request.done.wait()
        if request.error is not None:
            raise request.error
        return [p for p in request.results if p is not None]

    def close(self) -> None:
        """Finish what is queued, then stop the loop (a later `predict` starts it again,
        as a disposed SQLAlchemy engine reconnects)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not any(self._lanes.values()):
                    if self._closed:
                        return
                    self._wake.wait()
            self._gather()
            with self._wake:
                work = self._take()
            if work:
                self._run(work)

    def _gather(self) -> None:
        """A lone small interactive request waits a moment so that others share its pass."""
        if self.gather_s <= 0:
            return
        with self._wake:
            waiting = self._lanes[INTERACTIVE]
            small = sum(len(r.texts) - r.taken for r in waiting) < self.max_rows
            if not (waiting and small):
                return
        time.sleep(self.gather_s)

    def _take(self) -> list[tuple[_Request, int, int]]:
        """(request, start, end) slices for one pass, interactive lane first."""
        work: list[tuple[_Request, int, int]] = []
        rows = chars = 0
        for lane in LANES:
            queue = self._lanes[lane]
            max_rows, max_chars = self._budget(lane)
            while queue and rows < max_rows and chars < max_chars:
                request = queue[0]
                if request.error is not None:  # an earlier pass failed: drop the rest
                    queue.popleft()
                    continue
                start = end = request.taken
                while end < len(request.texts) and rows < max_rows:
                    size = len(request.texts[end])
                    if end > start and chars + size > max_chars:
                        break
                    chars += size
                    rows += 1
                    end += 1
                request.taken = end
                work.append((request, start, end))
                if end == len(request.texts):
                    queue.popleft()
                else:
                    break
            if work:
                return work  # a pass never mixes lanes: batch work never delays a request
        return work

    def _budget(self, lane: str) -> tuple[int, int]:
        if lane == BATCH:
            return min(self.max_rows, BATCH_MAX_ROWS), min(self.max_chars, BATCH_MAX_CHARS)
        return self.max_rows, self.max_chars

    def _run(self, work: list[tuple[_Request, int, int]]) -> None:
        from sentiment.inference import predict

        texts = [text for request, start, end in work for text in request.texts[start:end]]
        try:
            found = predict(self.model, texts, max_chars=None)
        except BaseException as exc:  # every request of the pass gets the error
            for request, _start, _end in work:
                request.error = exc
                request.done.set()
            return
        finally:
            self.passes += 1
        offset = 0
        for request, start, end in work:
            request.results[start:end] = found[offset : offset + end - start]
            offset += end - start
            request.remaining -= end - start
            if request.remaining == 0 or request.error is not None:
                request.done.set()
