"""Facts about the machine a run happened on: cores, load, the fsync rate, versions, date.

The fsync rate bounds every durable commit, so it is measured on the filesystem that holds
the data, not assumed.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def fsync_rate(directory: Path, seconds: float = 2.0) -> float:
    """write(4 KiB) + fsync per second on the filesystem holding `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    block = b"x" * 4096
    count = 0
    try:
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            os.pwrite(fd, block, (count % 256) * 4096)
            os.fsync(fd)
            count += 1
        return count / (time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)


def _version(command: list[str]) -> str:
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        return "not installed"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "unknown"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def facts(data_dir: Path) -> dict[str, Any]:
    """Everything RESULTS.md says about where and when the numbers were taken."""
    try:
        from importlib.metadata import version

        tidings_version = version("tidings-server")
    except Exception:
        tidings_version = "unknown"
    cpu_model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0].split()
        memory_kib = int(first[1])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "load_at_start": load_average(),
        "fsync_per_second": round(fsync_rate(data_dir)),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "tidings_server": tidings_version,
        "postfix": _version(["dpkg-query", "-W", "-f=${Version}", "postfix"]),
        "postgresql": _version(["psql", "--version"]),
        "wrk": _version(["wrk", "--version"]),
        "sqlite": __import__("sqlite3").sqlite_version,
    }
