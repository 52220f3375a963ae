"""Measuring: percentiles, CPU seconds of a process tree, and peak memory, all from /proc."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0 < fraction <= 1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p99 / max in milliseconds."""
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 2),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 2),
        "max_ms": round(max(seconds, default=0.0) * 1000, 2),
        "samples": len(seconds),
    }


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    """`root` and every live process below it."""
    tree = _children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    # utime, stime, cutime, cstime: a live process's cutime holds its reaped children, which
    # are no longer in the tree, so nothing is counted twice.
    return sum(int(value) for value in fields[11:15])


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by `root`, its live and its reaped descendants."""
    return sum(_cpu_ticks(pid) for pid in descendants(root)) / CLOCK_TICKS


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set size (VmHWM) in MiB."""
    return round(_status_kib(pid, "VmHWM") / 1024, 1)


def tree_rss_mib(root: int) -> float:
    """Resident memory of `root` and its descendants now, in MiB."""
    return round(sum(_status_kib(pid, "VmRSS") for pid in descendants(root)) / 1024, 1)


@dataclass
class CpuWindow:
    """CPU seconds a process tree spent between `start()` and `stop()`."""

    root: int
    started_at: float = 0.0
    seconds: float = 0.0

    def start(self) -> None:
        self.started_at = tree_cpu_seconds(self.root)

    def stop(self) -> float:
        self.seconds = round(tree_cpu_seconds(self.root) - self.started_at, 3)
        return self.seconds
