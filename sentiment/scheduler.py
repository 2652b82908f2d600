"""One inference loop per process, with two lanes: interactive requests before batch work.

A caller tokenises its own texts (in its own thread: the fast tokenizer releases the GIL)
and cuts them into passes of similar length, as `predict` does; the loop thread only runs
the model. It takes what is waiting, interactive first: small interactive pieces from
several users are padded into one pass (after waiting a few milliseconds for company),
so concurrent users share passes instead of fighting over the cores. Batch work goes one
pass at a time, so an interactive request waits for at most one batch pass (~32 rows).

    scheduler = InferenceScheduler(model)
    scheduler.predict(["Great!"])                       # interactive lane
    scheduler.predict(texts, lane=BATCH, max_chars=None)
    explain(model, text, score=scheduler.probabilities)  # explanations share it too
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sentiment.priority import lower_this_thread

if TYPE_CHECKING:
    from sentiment.inference import Prediction
    from sentiment.model import SentimentModel

INTERACTIVE, BATCH = "interactive", "batch"
LANES = (INTERACTIVE, BATCH)
DEFAULT_MAX_ROWS = 64  # texts in one interactive pass
DEFAULT_MAX_TOKENS = 4_096  # rows x padded length of one interactive pass
DEFAULT_GATHER_S = 0.002  # how long a small interactive pass waits for company


@dataclass
class _Piece:
    rows: np.ndarray  # the request's rows this piece scores
    inputs: dict[str, np.ndarray]  # rows x width, padded right

    @property
    def width(self) -> int:
        return int(next(iter(self.inputs.values())).shape[1])


@dataclass
class _Request:
    lane: str
    pieces: deque[_Piece]
    probabilities: np.ndarray  # (rows, 3), filled in by the passes
    remaining: int = 0  # pieces not yet scored
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.remaining = len(self.pieces)


class InferenceScheduler:
    """Runs every model pass of the process on one thread; thread-safe `predict`."""

    def __init__(
        self,
        model: SentimentModel,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        gather_s: float = DEFAULT_GATHER_S,
    ) -> None:
        self.model = model
        self.max_rows = max_rows
        self.max_tokens = max_tokens
        self.gather_s = gather_s
        self._lanes: dict[str, deque[_Request]] = {lane: deque() for lane in LANES}
        self._wake = threading.Condition()
        self._closed = False
        self.passes = 0  # model passes run; read by tests and benchmarks
        self._pad_id = int(getattr(model.tokenizer, "pad_token_id", None) or 0)
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
        from sentiment.inference import postprocess, validate

        checked = validate(texts, max_chars)
        if not checked:
            return []
        return postprocess(self.model, *self.probabilities(checked, lane=lane))

    def probabilities(
        self, texts: Sequence[str], *, lane: str = INTERACTIVE
    ) -> tuple[np.ndarray, list[bool]]:
        """(n, 3) probabilities in input order and truncation flags, as
        `sentiment.inference.probabilities` gives them; texts are not validated (explain
        builds its own variants)."""
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}")
        if not texts:
            return np.zeros((0, 3), dtype=np.float32), []
        request, truncated = self._request(list(texts), lane)
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
        return request.probabilities, truncated

    def _request(self, texts: list[str], lane: str) -> tuple[_Request, list[bool]]:
        """Tokenise here, in the caller's thread, and cut into passes of similar length."""
        from sentiment.inference import TOKENIZE_CHUNK, length_groups, pass_inputs, preprocess
        from sentiment.labels import LABELS

        pieces: deque[_Piece] = deque()
        truncated: list[bool] = []
        for start in range(0, len(texts), TOKENIZE_CHUNK):
            enc = preprocess(self.model, texts[start : start + TOKENIZE_CHUNK])
            truncated += enc.truncated
            for rows in length_groups(enc.lengths, 32, 1_024):
                pieces.append(_Piece(start + rows, pass_inputs(enc, rows)))
        probabilities = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        return _Request(lane, pieces, probabilities), truncated

    def close(self) -> None:
        """Finish what is queued, then stop the loop (a later `predict` starts it again,
        as a disposed SQLAlchemy engine reconnects)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        lower_this_thread()  # passes run below request handling (sentiment.priority)
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
            rows = sum(len(p.rows) for r in waiting for p in r.pieces)
            if not (waiting and rows < self.max_rows):
                return
        time.sleep(self.gather_s)

    def _take(self) -> list[tuple[_Request, _Piece]]:
        """The pieces of one pass: interactive ones padded together within the budget,
        else one batch piece. A pass never mixes lanes."""
        waiting = self._lanes[INTERACTIVE]
        if not waiting:
            request = self._lanes[BATCH][0]
            piece = request.pieces.popleft()
            if not request.pieces:
                self._lanes[BATCH].popleft()
            return [(request, piece)]
        work: list[tuple[_Request, _Piece]] = []
        rows = width = 0
        while waiting:
            request = waiting[0]
            piece = request.pieces[0]
            grown = max(width, piece.width)
            fits = rows + len(piece.rows) <= self.max_rows
            if work and not (fits and (rows + len(piece.rows)) * grown <= self.max_tokens):
                break
            work.append((request, request.pieces.popleft()))
            rows, width = rows + len(piece.rows), grown
            if not request.pieces:
                waiting.popleft()
        return work

    def _run(self, work: list[tuple[_Request, _Piece]]) -> None:
        from sentiment.inference import forward

        live = [(r, p) for r, p in work if r.error is None]  # a failed request's rest
        try:
            inputs = _padded([p for _r, p in live], self._pad_id) if live else None
            found = forward(self.model, inputs) if inputs is not None else None
        except BaseException as exc:  # every request of the pass gets the error
            for request, _piece in live:
                request.error = exc
            found = None
        finally:
            self.passes += 1 if live else 0
        offset = 0
        for request, piece in work:
            if found is not None and request.error is None:
                request.probabilities[piece.rows] = found[offset : offset + len(piece.rows)]
                offset += len(piece.rows)
            request.remaining -= 1
            if request.remaining == 0 or request.error is not None:
                request.done.set()


def _padded(pieces: list[_Piece], pad_id: int) -> dict[str, np.ndarray]:
    """One pass's inputs: the pieces stacked, padded right to the widest (the pad token,
    hidden by a zero attention mask)."""
    if len(pieces) == 1:
        return pieces[0].inputs
    width = max(p.width for p in pieces)
    out: dict[str, np.ndarray] = {}
    for name in pieces[0].inputs:
        fill = pad_id if name == "input_ids" else 0
        stacked = np.full((sum(len(p.rows) for p in pieces), width), fill, dtype=np.int64)
        offset = 0
        for p in pieces:
            block = p.inputs[name]
            stacked[offset : offset + block.shape[0], : block.shape[1]] = block
            offset += block.shape[0]
        out[name] = stacked
    return out
