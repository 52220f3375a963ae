"""A real HTTP receiver on loopback for webhook tests, answering from a script.

Each request takes the next step of the script (the last step repeats): answer with a
status, stall past the sender's timeout, or read the body slowly. Every request is recorded
with its headers and body, whatever the answer was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Step:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    body: bytes = b"ok"
    stall: bool = False  # the delay outlasts the sender's timeout: it never sees the answer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


class Receiver:
    def __init__(self, script: list[Step]) -> None:
        self.script = list(script) or [Step()]
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self.url = ""

    def _next(self) -> Step:
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def then(self, *steps: Step) -> None:
        """Replace what is left of the script."""
        with self._lock:
            self.script = list(steps)

    @property
    def succeeded(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]

    def event_ids(self, *, succeeded_only: bool = True) -> list[str]:
        chosen = self.succeeded if succeeded_only else self.requests
        return [r.headers["webhook-id"] for r in chosen]


@contextmanager
def webhook_receiver(*script: Step) -> Iterator[Receiver]:
    receiver = Receiver(list(script))

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # as real servers do: the body must not wait for an ACK

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            step = receiver._next()
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver._lock:
                receiver.requests.append(Received(headers, body, 0 if step.stall else step.status))
            if step.delay:
                time.sleep(step.delay)
            try:
                self.send_response(step.status)
                for name, value in step.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(step.body)))
                self.end_headers()
                self.wfile.write(step.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
