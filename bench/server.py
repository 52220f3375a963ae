"""`tidings serve` as a real child process for the benchmarks, with its CPU and memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from bench.measure import descendants, peak_rss_mib
from bench.peers import free_port, split_setup

# Benchmarks are not rate-limit tests: one key makes tens of thousands of requests a minute.
BENCH_ENV = {
    "TIDINGS_RATE_LIMIT_REQUESTS": "1000000000",
    "TIDINGS_LOG_LEVEL": "warning",
    "TIDINGS_SMTP_MAX_MESSAGE_BYTES": str(50 * 1024 * 1024),
}


@dataclass
class Tidings:
    process: subprocess.Popen[bytes]
    base_url: str
    smtp_port: int
    data_dir: Path
    database_url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def root_key(self) -> str:
        return (self.data_dir / "root_api_key").read_text().strip()

    def client(self, key: str | None = None) -> httpx2.Client:
        return httpx2.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key or self.root_key}"},
            timeout=60,
        )

    def peak_rss_mib(self) -> float:
        """The server's peak RSS; with several processes, the sum of each one's peak."""
        return round(sum(peak_rss_mib(pid) for pid in descendants(self.pid)), 1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, nothing but what was already durable."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tidings serve exited with {process.returncode}")
        try:
            if httpx2.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("tidings serve did not become ready")


def start(
    data_dir: Path,
    database_url: str,
    *,
    env: Mapping[str, str] | None = None,
    http_port: int | None = None,
    smtp_port: int | None = None,
    log: Path | None = None,
    processes: int = 1,
) -> Tidings:
    """Start `tidings serve` and wait until it is ready (the caller stops it)."""
    http_port = http_port or free_port()
    smtp_port = smtp_port or free_port()
    command = [
        sys.executable, "-m", "tidings_server", "serve", "--data-dir", str(data_dir),
        "--database-url", database_url, "--http", f"127.0.0.1:{http_port}",
        "--smtp", f"127.0.0.1:{smtp_port}", "--processes", str(processes),
    ]  # fmt: skip
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    child_env.update(BENCH_ENV)
    child_env.update(env or {})
    data_dir.mkdir(parents=True, exist_ok=True)
    output = (log or data_dir / "serve.log").open("ab")
    process = subprocess.Popen(command, stdout=output, stderr=output, env=child_env)
    output.close()
    server = Tidings(process, f"http://127.0.0.1:{http_port}", smtp_port, data_dir, database_url)
    try:
        wait_ready(server.base_url, process)
    except Exception:
        server.kill()
        raise
    return server


@contextmanager
def serving(
    data_dir: Path, database_url: str, *, setup: str = "", env: Mapping[str, str] | None = None
) -> Iterator[Tidings]:
    """`tidings serve` for the run; `setup` (as `postgresql:2`) may ask for several processes."""
    server = start(data_dir, database_url, env=env, processes=split_setup(setup)[1])
    try:
        yield server
    except Exception as exc:
        # A run can fail far from its cause (a peer's "lost connection"); the server's own
        # log says what happened on its side, and CI keeps nothing else.
        exc.add_note(_log_tail(data_dir / "serve.log"))
        raise
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            try:
                server.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError as exc:
        return f"(no server log at {path}: {exc})"
    return "\n".join([f"last {len(tail)} lines of {path}:", *tail])
