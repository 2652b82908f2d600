"""What a benchmark's figures were measured on: the CPU, its vector extensions, threads.

Every benchmark prints ``describe(threads)`` beside its figures, since the same code runs
at very different speeds on CPUs with and without AVX-512 VNNI or AMX int8.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

# /proc/cpuinfo flag -> the name people know it by.
VECTOR_FLAGS = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_vnni": "AVX-512 VNNI",
    "avx_vnni": "AVX-VNNI",
    "amx_tile": "AMX",
    "amx_int8": "AMX-INT8",
    "amx_bf16": "AMX-BF16",
}


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def cpu_model() -> str:
    for line in _cpuinfo():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def vector_flags() -> list[str]:
    """The vector extensions the CPU reports, in VECTOR_FLAGS order."""
    for line in _cpuinfo():
        if line.startswith("flags"):
            present = set(line.split(":", 1)[1].split())
            return [name for flag, name in VECTOR_FLAGS.items() if flag in present]
    return []


def usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_threads() -> int | None:
    """The server's default thread count (physical cores), as sentiment.model counts it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    try:
        from sentiment.model import available_cores
    except ImportError:
        return None
    return available_cores()


def describe(threads: int | None = None, what: str = "inference threads") -> str:
    """One line: CPU model, vector flags, usable logical CPUs, threads, load average."""
    flags = ", ".join(vector_flags()) or "no AVX2"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    threads = threads or default_threads()
    return (
        f"CPU: {cpu_model()} ({flags}); {usable_cpus()} logical CPUs usable; "
        f"{what}: {threads or '?'}; load average {load}"
    )


if __name__ == "__main__":
    print(describe())
