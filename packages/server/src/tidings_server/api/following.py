"""Following the event log live: the loop behind the SSE stream and the WebSocket.

Each poll opens its own short read session (a stream outlives its request's unit of work)
and asks only for events after the last one sent, so a slow consumer never holds a
transaction open and a reconnect resumes exactly where it left off. A client that leaves
cancels its stream mid-poll; the poll's read finishes first (`uncancellable`), so its
connection goes back to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from tidings_server.directory.keys import Principal
from tidings_server.events.reading import EventFilter, EventReader
from tidings_server.runtime import Runtime
from tidings_server.store.models import Event
from tidings_server.store.sessions import uncancellable

BATCH = 100


@dataclass
class Follower:
    runtime: Runtime
    principal: Principal
    wanted: EventFilter
    position: int
    stopping: asyncio.Event

    async def batches(
        self, gone: Callable[[], Awaitable[bool]], *, wake: asyncio.Event | None = None
    ) -> AsyncIterator[list[Event]]:
        """Yield new events as they commit, and an empty batch when a heartbeat is due.

        Ends when the server begins shutting down or `gone()` says the client left. `wake`
        lets the caller cut a wait short (a WebSocket that changed its subscription).
        """
        settings = self.runtime.settings
        last_yield = time.monotonic()
        while not self.stopping.is_set() and not await gone():
            events = await uncancellable(self._read())
            if events:
                self.position = events[-1].seq
                last_yield = time.monotonic()
                yield events
                continue
            if time.monotonic() - last_yield >= settings.stream_heartbeat_seconds:
                last_yield = time.monotonic()
                yield []
            await self._pause(settings.stream_poll_seconds, wake)

    async def _read(self) -> list[Event]:
        async with self.runtime.reads() as session:
            return await EventReader(session, self.principal).after(
                self.position, self.wanted, limit=BATCH
            )

    async def _pause(self, seconds: float, wake: asyncio.Event | None) -> None:
        waits = [asyncio.ensure_future(self.stopping.wait())]
        if wake is not None:
            waits.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiting
