"""A real Tidings API on a loopback port, served by uvicorn from a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import uvicorn

from tidings_server.api.app import create_app
from tidings_server.clock import Clock
from tidings_server.runtime import Runtime
from tidings_server.settings import Settings


@dataclass
class LiveServer:
    base_url: str
    root_key: str
    settings: Settings
    runtime: Runtime

    @property
    def smtp_address(self) -> tuple[str, int]:
        bind = self.settings.smtp_bind
        assert bind is not None, "this server runs no SMTP listener"
        return bind

    def client(self, key: str | None = None, **kwargs: Any) -> httpx2.Client:
        """An HTTP client for this server, authenticated with `key` (the root key by default)."""
        headers = {"Authorization": f"Bearer {key or self.root_key}"}
        headers.update(kwargs.pop("headers", {}))
        return httpx2.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)

    def anonymous(self) -> httpx2.Client:
        return httpx2.Client(base_url=self.base_url, timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def start_server(
    *, database_url: str, data_dir: Path, clock: Clock | None = None, **overrides: Any
) -> Iterator[LiveServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    overrides.setdefault("smtp", f"127.0.0.1:{free_port()}")
    settings = Settings(
        data_dir=data_dir, database_url=database_url, http=f"127.0.0.1:{port}", **overrides
    )
    started: list[Runtime] = []
    app = create_app(settings, clock=clock, on_start=started.append)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        root_key = settings.root_key_path.read_text().strip()
        yield LiveServer(f"http://127.0.0.1:{port}", root_key, settings, started[0])
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
