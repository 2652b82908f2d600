"""What benchmarks/load.py counts (calls, latencies, statuses) and how it prints them."""

from __future__ import annotations

import argparse
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from benchmarks.machine import describe

BUSY = 503  # what the Gradio queue answers when it is full


@dataclass
class Stats:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # first failure per operation
    rows: int = 0  # texts scored
    timed_rows: int = 0  # of them, during the timed run (not the burst)
    busy: int = 0
    busy_reply: str = ""
    cpu_split: str = ""  # benchmarks.cpu_split's line for the timed run

    def record(self, op: str, seconds: float, status: int, ok: bool, detail: str = "") -> None:
        self.latency[op].append(seconds)
        self.statuses[status] += 1
        if not ok:
            self.failures[op] += 1
            self.examples.setdefault(op, f"{status} {detail[:200]}")

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500 and s != BUSY) + self.statuses[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def report(
    stats: Stats, seconds: float, args: argparse.Namespace, backend: str, offline: float
) -> None:
    total = sum(len(v) for v in stats.latency.values())
    print(
        f"\n{args.users} users, {seconds:.0f} s, {backend}; then a burst of {args.burst} "
        "Gradio calls\n"
    )
    print("| Operation | Calls | Failed | p50 ms | p95 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for op in sorted(stats.latency):
        ms = [s * 1000 for s in stats.latency[op]]
        print(
            f"| {op} | {len(ms):,} | {stats.failures[op]:,} | {percentile(ms, 50):,.0f} "
            f"| {percentile(ms, 95):,.0f} | {percentile(ms, 99):,.0f} |"
        )
    main_calls = (
        total
        - len(stats.latency.get("burst_busy", []))
        - len(stats.latency.get("burst_served", []))
    )
    print(f"\nRequests: {total:,} ({main_calls / seconds:,.1f}/s during the timed run)")
    rate = stats.timed_rows / seconds
    print(f"Texts scored: {stats.timed_rows:,} in the timed run ({rate:,.1f} rows/s)")
    print(f"Offline, one process, same texts: {offline:,.1f} rows/s; served {rate / offline:.0%}")
    print(
        "By status: "
        + ", ".join(f"{s or 'no reply'}: {n:,}" for s, n in sorted(stats.statuses.items()))
    )
    print(f"Busy replies (Gradio queue full, HTTP 503): {stats.busy:,} {stats.busy_reply}")
    print(f"Server errors (5xx other than busy, or no reply): {stats.server_errors:,}")
    for op, example in sorted(stats.examples.items()):
        print(f"  first {op} failure: {example}")
    if stats.cpu_split:
        print(stats.cpu_split)
    print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(describe(what="server inference threads"))
