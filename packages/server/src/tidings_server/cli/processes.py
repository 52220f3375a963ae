"""`tidings serve` with `processes` above 1: a supervisor and that many copies of the server.

The supervisor migrates and bootstraps the database once (so the root key is printed once),
binds the HTTP and SMTP sockets, and forks the copies. Each copy runs the whole server (API,
SMTP, delivery and webhook workers) on the inherited sockets; the kernel hands each new
connection to a copy that is waiting in accept, one connection per wakeup, so a busy copy
takes fewer (`cli.sockets`). The copies share work through PostgreSQL exactly as separately
started processes do.

SIGTERM or SIGINT to the supervisor drains every copy. A copy that dies is replaced; one that
cannot start (exit 3) stops them all. A copy whose supervisor is killed drains and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import traceback
from types import FrameType
from typing import NoReturn

from rich.console import Console

from tidings_server.cli.serve import (
    STARTUP_FAILED,
    Inherited,
    announce,
    serve_forever,
    settle_heap,
)
from tidings_server.cli.sockets import listen_socket
from tidings_server.runtime import open_runtime
from tidings_server.settings import Settings

# A copy that dies sooner than this after its start is replaced only after this long, so a
# fault that kills every copy at once does not become a fork loop.
QUICK_DEATH_SECONDS = 1.0


async def _first_start(settings: Settings, console: Console) -> None:
    async with open_runtime(settings) as runtime:
        announce(console, runtime)
    console.print(f"Serving with {settings.processes} processes.")


def _run_copy(settings: Settings, console: Console, inherited: Inherited) -> NoReturn:
    """The forked child: serve, then leave without running the supervisor's exit handlers."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    code = 0
    try:
        asyncio.run(serve_forever(settings, console, inherited))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


class Supervisor:
    def __init__(self, settings: Settings, console: Console, inherited: Inherited) -> None:
        self.settings = settings
        self.console = console
        self.inherited = inherited
        self.copies: dict[int, float] = {}  # pid -> when it started
        self.stopping = False
        self.exit_code = 0

    def start_copy(self) -> None:
        pid = os.fork()
        if pid == 0:
            _run_copy(self.settings, self.console, self.inherited)
        self.copies[pid] = time.monotonic()

    def stop_all(self, _signum: int = 0, _frame: FrameType | None = None) -> None:
        self.stopping = True
        for pid in self.copies:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def run(self) -> int:
        for _ in range(self.settings.processes):
            self.start_copy()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.stop_all)
        while self.copies:
            pid, status = os.wait()
            started = self.copies.pop(pid, None)
            if started is None:
                continue
            self._ended(pid, os.waitstatus_to_exitcode(status), time.monotonic() - started)
        return self.exit_code

    def _ended(self, pid: int, code: int, lived: float) -> None:
        if self.stopping:
            if code != 0:
                self.exit_code = 1
            return
        if code == STARTUP_FAILED:
            self.console.print(f"[red]Process {pid} could not start; stopping.[/red]")
            self.exit_code = STARTUP_FAILED
            self.stop_all()
            return
        self.console.print(f"[yellow]Process {pid} ended ({code}); starting another.[/yellow]")
        if lived < QUICK_DEATH_SECONDS:
            time.sleep(QUICK_DEATH_SECONDS)
        if not self.stopping:
            self.start_copy()


def serve_processes(settings: Settings, console: Console) -> int:
    """Run `settings.processes` copies of the server until a signal; the exit code."""
    asyncio.run(_first_start(settings, console))
    try:
        http = listen_socket(*settings.http_bind)
        smtp_bind = settings.smtp_bind
        smtp = listen_socket(*smtp_bind) if smtp_bind is not None else None
    except OSError as exc:
        console.print(f"[red]Cannot listen:[/red] {exc}")
        return STARTUP_FAILED
    # Frozen before the fork, the start-up heap stays shared between the copies as well as
    # out of the collector's way.
    settle_heap()
    inherited = Inherited(http=http, smtp=smtp, supervisor_pid=os.getpid())
    return Supervisor(settings, console, inherited).run()
