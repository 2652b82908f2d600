"""The inference scheduler: one loop per process, interactive lane before batch work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from errors import InvalidInput
from sentiment import SentimentModel, explain, predict
from sentiment.scheduler import BATCH, InferenceScheduler


@pytest.fixture
def scheduler(tiny_model: SentimentModel) -> Iterator[InferenceScheduler]:
    running = InferenceScheduler(tiny_model)
    yield running
    running.close()


def texts(n: int, word: str = "fine") -> list[str]:
    return [f"{word} text number {i} " * (1 + i % 4) for i in range(n)]


def test_results_are_the_models_in_input_order(
    scheduler: InferenceScheduler, tiny_model: SentimentModel
) -> None:
    given = texts(150)
    got = scheduler.predict(given, lane=BATCH, max_chars=None)
    want = predict(tiny_model, given, max_chars=None)
    assert [p.label for p in got] == [p.label for p in want]
    for a, b in zip(got, want, strict=True):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-5)
    assert scheduler.passes >= 150 // 32  # a batch request is cut into small passes


def test_concurrent_requests_share_passes(tiny_model: SentimentModel) -> None:
    scheduler = InferenceScheduler(tiny_model, gather_s=0.05)
    start = threading.Barrier(16)
    found: list[Any] = []

    def user(i: int) -> None:
        start.wait()
        found.append(scheduler.predict([f"user {i} says hello"]))

    threads = [threading.Thread(target=user, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    scheduler.close()
    assert len(found) == 16 and all(len(f) == 1 for f in found)
    assert scheduler.passes < 16  # several users' texts went through one pass


def test_an_interactive_request_goes_before_queued_batch_work(
    tiny_model: SentimentModel,
) -> None:
    scheduler = InferenceScheduler(tiny_model)
    order: list[str] = []
    batch_started = threading.Event()

    def batch() -> None:
        batch_started.set()
        scheduler.predict(texts(10_000), lane=BATCH, max_chars=None)
        order.append("batch")

    worker = threading.Thread(target=batch)
    worker.start()
    batch_started.wait()
    while scheduler.passes == 0:  # the batch is being scored
        threading.Event().wait(0.001)
    scheduler.predict(["Is it my turn?"])
    order.append("interactive")
    worker.join()
    scheduler.close()
    assert order == ["interactive", "batch"]


def test_an_explanation_through_the_scheduler_is_the_direct_one(
    scheduler: InferenceScheduler, tiny_model: SentimentModel
) -> None:
    text = "The room was clean and the staff were kind. " * 3 + "Breakfast was cold."
    direct = explain(tiny_model, text)
    shared = explain(tiny_model, text, score=scheduler.probabilities)
    assert scheduler.passes >= 1  # its variants ran on the inference loop
    assert shared.prediction.label == direct.prediction.label
    assert [s for s, _ in shared.spans] == [s for s, _ in direct.spans]
    assert [w for _, w in shared.spans] == pytest.approx([w for _, w in direct.spans], abs=1e-4)


def test_bad_input_is_refused_before_anything_is_queued(scheduler: InferenceScheduler) -> None:
    with pytest.raises(InvalidInput):
        scheduler.predict(["fine", "   "])
    assert scheduler.passes == 0
    assert scheduler.predict([]) == []


def test_an_error_in_a_pass_reaches_its_callers(
    scheduler: InferenceScheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentiment.inference

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the runtime failed")

    monkeypatch.setattr(sentiment.inference, "forward", broken)
    with pytest.raises(RuntimeError, match="the runtime failed"):
        scheduler.predict(texts(100), lane=BATCH, max_chars=None)
    monkeypatch.undo()
    assert len(scheduler.predict(["it works again"])) == 1


def test_a_closed_scheduler_starts_again_when_used(tiny_model: SentimentModel) -> None:
    scheduler = InferenceScheduler(tiny_model)
    scheduler.close()
    assert len(scheduler.predict(["served again"])) == 1
    scheduler.close()


def test_texts_of_different_lengths_padded_into_one_pass_score_as_alone(
    tiny_model: SentimentModel,
) -> None:
    scheduler = InferenceScheduler(tiny_model, gather_s=0.05)
    given = [f"user {i} says " + "so very fine " * (i * 3) for i in range(12)]
    start = threading.Barrier(len(given))
    found: dict[int, Any] = {}

    def user(i: int) -> None:
        start.wait()
        found[i] = scheduler.predict([given[i]])[0]

    threads = [threading.Thread(target=user, args=(i,)) for i in range(len(given))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    scheduler.close()
    assert scheduler.passes < len(given)  # some of them shared a pass, padded to the longest
    want = predict(tiny_model, given, max_chars=None)
    for i, alone in enumerate(want):
        assert found[i].label == alone.label
        assert found[i].probabilities == pytest.approx(alone.probabilities, abs=1e-5)
