"""`tidings serve` as a real child process, for tests of the CLI, signals and several processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from tests.support.live import free_port


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    base_url: str
    data_dir: Path
    smtp_port: int
    output: list[str] = field(default_factory=list)

    @property
    def root_key(self) -> str:
        return (self.data_dir / "root_api_key").read_text().strip()

    def client(self, key: str | None = None) -> httpx2.Client:
        return httpx2.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key or self.root_key}"},
            timeout=30,
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.output.append(self.process.stdout.read())
        self.output.append(self.process.stderr.read())
        return code


def wait_ready(base_url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"tidings serve exited with {process.returncode}: {said[-2000:]}")
        try:
            if httpx2.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("tidings serve did not become ready")


@contextmanager
def serve_process(
    data_dir: Path,
    *,
    database_url: str | None = None,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[ServerProcess]:
    port = port or free_port()
    smtp_port = free_port()
    command = [sys.executable, "-m", "tidings_server", "serve", "--data-dir", str(data_dir)]
    command += ["--http", f"127.0.0.1:{port}", "--smtp", f"127.0.0.1:{smtp_port}", *args]
    if database_url:
        command += ["--database-url", database_url]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    child_env.update(env or {})
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env
    )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", data_dir, smtp_port)
    try:
        wait_ready(server.base_url, process)
        yield server
    finally:
        if process.poll() is None:
            server.stop(signal.SIGKILL)
