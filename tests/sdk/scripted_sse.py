"""A real HTTP server on loopback that answers event-stream requests from a script.

The Tidings server always speaks well-formed SSE; this one does what a proxy or a crashing
server might: answer 503, split fields over lines and chunks, use CRLF, drop the connection
in the middle of a message. Each request takes the next step and is recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 200
    chunks: tuple[bytes, ...] = ()  # sent one by one, chunked
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without ending the body


@dataclass
class Script:
    answers: list[Answer]
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, headers: dict[str, str]) -> Answer:
        with self.lock:
            self.requests.append(headers)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@contextmanager
def scripted_sse(*answers: Answer) -> Iterator[Script]:
    script = Script(list(answers))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = script.next({**headers, ":path": self.path})
            self.send_response(answer.status)
            content_type = "text/event-stream" if answer.status < 400 else "application/json"
            self.send_header("content-type", content_type)
            self.send_header("transfer-encoding", "chunked")
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            for chunk in answer.chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            if answer.drop:
                self.close_connection = True  # no last chunk: the body is cut off
                return
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    script.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
