"""Group commit: concurrent callers' small write transactions run as one, with one commit.

Each caller hands over a unit of work and waits. One drain task runs every unit waiting at
that moment in a single transaction and answers the callers only after it commits, so each
caller still returns only once its own writes are durable. Nothing waits on a timer: units
that arrive while a transaction runs form the next one, so a lone caller pays no delay and
a busy stream shares each BEGIN, COMMIT and fsync among many.

If the shared transaction fails, each of its units runs again in a transaction of its own,
so a unit that cannot be stored fails only its own caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]

log = logging.getLogger("tidings.store")


class StoppedError(RuntimeError):
    """The drain task was stopped (the process is shutting down) before this unit ran."""


class GroupCommit(Generic[T]):
    """`lanes` transactions may run at once: one where writers are serial anyway (SQLite), a
    few where they are not (PostgreSQL), so one's round trips overlap another's work."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, lanes: int = 1, max_units: int = 32
    ) -> None:
        self._sessions = sessions
        self._lanes = lanes
        self._max_units = max_units
        self._waiting: deque[tuple[Work[T], asyncio.Future[T]]] = deque()
        self._drains: set[asyncio.Task[None]] = set()

    async def run(self, work: Work[T]) -> T:
        """Run `work` in a write transaction (perhaps shared); return its result once committed.

        `work` must only write through the session it is given: it may run twice (alone,
        after a shared transaction failed), and only the transaction's effects are undone.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if len(self._drains) < self._lanes:
            drain = asyncio.create_task(self._drain())
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        # A caller that goes away (its SMTP client hung up) does not cancel the unit: it may
        # already share a transaction with others. Stored but unacknowledged is allowed.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        batch: list[tuple[Work[T], asyncio.Future[T]]] = []
        try:
            while self._waiting:
                take = min(len(self._waiting), self._max_units)
                batch = [self._waiting.popleft() for _ in range(take)]
                await self._together(batch)
                batch = []
        finally:
            # Leave in the same step that found nothing waiting: the done callback runs an
            # iteration later, and a unit handed over in between would wait for a drain that
            # is gone. (The callback still covers a task cancelled before it ever ran.)
            self._drains.discard(asyncio.current_task())
            # Only reached with units in hand if the task itself was cancelled (shutdown);
            # the last lane to stop fails what is still waiting too.
            others = [d for d in self._drains if not d.done()]
            for _work, future in [*batch, *(() if others else self._waiting)]:
                _fail(future, StoppedError("the store is shutting down"))
            if not others:
                self._waiting.clear()

    async def _together(self, batch: list[tuple[Work[T], asyncio.Future[T]]]) -> None:
        if len(batch) > 1:
            try:
                async with self._sessions.begin() as session:
                    results = [await work(session) for work, _future in batch]
            except Exception:
                log.info("a shared transaction of %d units failed; retrying each", len(batch))
            else:
                for (_work, future), result in zip(batch, results, strict=True):
                    _resolve(future, result)
                return
        for work, future in batch:
            try:
                async with self._sessions.begin() as session:
                    result = await work(session)
            except Exception as exc:
                _fail(future, exc)
            else:
                _resolve(future, result)


# Settled once: a drain cancelled part way through its batch fails only the unanswered.
def _resolve(future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[T], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
