"""`tidings serve`: run the app under uvicorn until SIGINT/SIGTERM, then drain and stop.

On a signal uvicorn stops accepting connections, lets in-flight requests finish (up to
`shutdown_timeout_seconds`), and only then runs the app's shutdown, which closes the database.
Every request commits or rolls back as a whole, so nothing is left half-written.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from rich.console import Console

from tidings_server.api.app import create_app
from tidings_server.api.server import Server
from tidings_server.cli.sockets import ACCEPTS_PER_WAKEUP, LISTEN_QUEUE
from tidings_server.runtime import Runtime
from tidings_server.settings import Settings

STARTUP_FAILED = 3  # the exit code when the server could not start (as uvicorn's)


class _Server(Server):
    """uvicorn, except that a signal that led to a clean shutdown ends the process with 0.

    uvicorn re-raises the signal once it has drained; for an operator (and systemd) a clean
    drain is a successful exit, and SIGINT should not end in a KeyboardInterrupt traceback.
    A copy started by a supervisor also drains when the supervisor is gone (killed with -9),
    rather than serving on unsupervised.
    """

    def __init__(self, config: uvicorn.Config, supervisor_pid: int | None = None) -> None:
        super().__init__(config)
        self.supervisor_pid = supervisor_pid

    async def on_tick(self, counter: int) -> bool:
        if self.supervisor_pid is not None and os.getppid() != self.supervisor_pid:
            self.should_exit = True
        return await super().on_tick(counter)

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@dataclass(frozen=True)
class Inherited:
    """What a copy of the server gets from its supervisor: the sockets to serve on, its pid."""

    http: socket.socket
    smtp: socket.socket | None
    supervisor_pid: int


def announce(console: Console, runtime: Runtime) -> None:
    settings = runtime.settings
    host, port = settings.http_bind
    console.print(f"Tidings API on http://{host}:{port}  (docs: /docs)")
    smtp = settings.smtp_bind
    if smtp is not None:
        console.print(f"SMTP for @{settings.domain} on {smtp[0]}:{smtp[1]}")
    console.print(f"Data in {settings.data_dir}; hosted domain {settings.domain}")
    if settings.outbound == "capture":
        console.print(
            "Outbound mail is captured: mail to outside addresses is kept and never leaves "
            "this machine (set TIDINGS_OUTBOUND to send)."
        )
    if runtime.bootstrap.root_key is not None:
        console.print("First start: created the organisation and its root API key.")
        console.print(f"Root API key (shown once; saved to {settings.root_key_path}):")
        print(runtime.bootstrap.root_key, flush=True)


def settle_heap() -> None:
    """Move everything start-up made (modules, mappers, the app) out of the collector's way.

    A full collection walks every tracked object; with the start-up heap in it, each one
    stopped the event loop for 115-150 ms, which every in-flight request waited out. Frozen,
    those objects are never scanned again, and a full collection takes a few milliseconds.
    """
    gc.collect()
    gc.freeze()


def _started(console: Console, runtime: Runtime) -> None:
    announce(console, runtime)
    settle_heap()


async def serve_forever(
    settings: Settings, console: Console, inherited: Inherited | None = None
) -> None:
    """Serve until a signal; a copy under a supervisor serves on the sockets it inherited
    and leaves the announcement to the supervisor."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if inherited is None:
        app = create_app(settings, on_start=lambda runtime: _started(console, runtime))
    else:
        app = create_app(settings, on_start=lambda _: settle_heap(), smtp_socket=inherited.smtp)
    host, port = settings.http_bind
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=settings.log_level,
            timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
            access_log=settings.log_level == "debug",
            server_header=False,
            # On a shared socket, asyncio's accept batch: see cli.sockets.
            backlog=ACCEPTS_PER_WAKEUP if inherited else LISTEN_QUEUE,
        ),
        supervisor_pid=inherited.supervisor_pid if inherited else None,
    )
    await server.serve(sockets=[inherited.http] if inherited else None)
    if not server.started:
        raise SystemExit(STARTUP_FAILED)
