"""Model passes run below request handling: the inference threads' nice value is raised,
the threads they start inherit it, and no other thread of the process is touched."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from sentiment.inference import predict
from sentiment.model import build
from sentiment.priority import NICENESS, in_lowered_thread, lower_this_thread
from sentiment.scheduler import InferenceScheduler
from tests.sentiment.conftest import save_transformers_dir

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="nice values per thread: Linux")


def nice(tid: int | None = None) -> int:
    """A thread's nice value as the kernel reports it (field 19 of /proc/self/task/T/stat)."""
    tid = tid or threading.get_native_id()
    stat = Path(f"/proc/self/task/{tid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


def threads() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


def test_only_the_calling_thread_is_lowered_and_its_new_threads_inherit() -> None:
    before = nice()
    seen: dict[str, int] = {}

    def lowered() -> None:
        assert lower_this_thread()
        seen["self"] = nice()
        child = threading.Thread(target=lambda: seen.__setitem__("child", nice()))
        child.start()
        child.join()

    worker = threading.Thread(target=lowered)
    worker.start()
    worker.join()
    assert seen == {"self": min(19, before + NICENESS), "child": min(19, before + NICENESS)}
    assert nice() == before  # the caller's own thread keeps its priority


def test_in_lowered_thread_returns_the_result_or_raises_the_error() -> None:
    assert in_lowered_thread(nice) == min(19, nice() + NICENESS)
    with pytest.raises(ValueError, match="bad"):
        in_lowered_thread(lambda: (_ for _ in ()).throw(ValueError("bad")))


def test_onnx_runtimes_pool_and_the_inference_loop_run_lowered(tmp_path: Path) -> None:
    folder = save_transformers_dir(tmp_path / "model", {0: "negative", 1: "positive"})
    cache = tmp_path / "cache"
    predict(build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache), ["warm"])
    base = nice()
    existing = threads()  # the export's and the tokenizer's threads are already there
    model = build(str(folder), backend="onnx-int8", threads=2, cache_dir=cache)
    pool = threads() - existing
    assert pool, "a two-thread session starts a pool thread"
    assert all(nice(t) == min(19, base + NICENESS) for t in pool)
    assert nice() == base  # the thread that loaded the model is not lowered

    scheduler = InferenceScheduler(model)
    try:
        scheduler.predict(["fine"])
        loop = scheduler._thread.native_id
        assert loop is not None and nice(loop) == min(19, base + NICENESS)
    finally:
        scheduler.close()
