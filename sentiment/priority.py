"""Model passes run below request handling in the operating system's scheduler.

A web process scores on the same cores that parse requests, check tokens, query the
database and write JSON. Those are short; a model pass is long. At equal priority a
History page that needs ~1 ms of CPU waits behind whole passes; with the threads that
run passes at a higher nice value, the kernel hands a core to request handling as soon as
it has work, and the model takes every cycle left over, so an idle machine scores exactly
as fast as before.

On Linux the nice value belongs to each thread and a thread's new threads inherit it:
the inference loop lowers its own, and ONNX Runtime's pool threads are started from a
thread that has lowered its own (``in_lowered_thread``). Elsewhere, or where the call is
refused, nothing changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
NICENESS = 10  # Linux CFS: a nice-0 thread outweighs a nice-10 one about 9 to 1


def lower_this_thread(niceness: int = NICENESS) -> bool:
    """Raise the calling thread's nice value by ``niceness`` (at most 19); True if done."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, 0)  # who=0: this thread, on Linux
        os.setpriority(os.PRIO_PROCESS, 0, min(19, current + niceness))
    except (AttributeError, OSError):  # no such call here, or not allowed
        return False
    return True


def in_lowered_thread(make: Callable[[], T], niceness: int = NICENESS) -> T:
    """``make()`` run on a short-lived thread with a lowered priority, so that the threads
    it starts (a thread pool) inherit that priority; its result or its exception."""
    outcome: dict[str, object] = {}

    def target() -> None:
        lower_this_thread(niceness)
        try:
            outcome["value"] = make()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="lowered-priority")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
