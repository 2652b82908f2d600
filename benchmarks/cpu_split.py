"""Where the cores went during a load run: the server, the load generator, everything else.

The load generator runs on the machine it measures. On two cores its own CPU time is not
small, and whatever it uses the server cannot: this split says how much of the machine
each side had, so a served rate can be read against what was left to serve with.

    before = CpuSnapshot.take(server_pid)
    ...  # the timed run
    print(before.split(CpuSnapshot.take(server_pid)))

Linux only (/proc); elsewhere the split is not printed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid`, every thread included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def _machine_busy_seconds() -> float:
    """CPU seconds every core spent on anything but idle and iowait, since boot."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / TICKS  # guest time is already counted in user


@dataclass(frozen=True)
class CpuSnapshot:
    wall: float
    server: float
    generator: float
    machine: float

    @classmethod
    def take(cls, server_pid: int) -> CpuSnapshot | None:
        try:
            times = os.times()
            return cls(
                wall=time.monotonic(),
                server=_process_seconds(server_pid),
                generator=times.user + times.system,
                machine=_machine_busy_seconds(),
            )
        except (OSError, IndexError, ValueError):  # not Linux, or the server is gone
            return None

    def split(self, after: CpuSnapshot | None) -> str:
        """One line: each side's CPU as a share of all cores over the interval."""
        if after is None:
            return "CPU split: not available here (no /proc)"
        capacity = (after.wall - self.wall) * (os.cpu_count() or 1)
        server = after.server - self.server
        generator = after.generator - self.generator
        other = max(0.0, after.machine - self.machine - server - generator)
        idle = max(0.0, capacity - server - generator - other)
        parts = {"server": server, "load generator": generator, "other (database, ...)": other}
        shares = ", ".join(f"{name} {sec / capacity:.0%}" for name, sec in parts.items())
        return f"CPU split over the timed run ({os.cpu_count()} cores): {shares}, idle " + (
            f"{idle / capacity:.0%}"
        )
