"""Sessions whose end always completes, and completes in place when it needs no I/O.

A unit of work's end (commit or rollback, then giving the connection back to the pool) must
not be abandoned halfway when its task is cancelled: SQLAlchemy would lose the connection.
SQLAlchemy guards it by running the end in a task of its own; but a new task first runs on
the event loop's next turn, behind every request that is ready meanwhile, so each request
waited out one extra turn (the slowest hundredth of a list answered in twice its median
time). Here the end runs in the caller's task up to its first real wait, which on SQLite
(whose calls run on the loop's thread) is never; only what is left moves into a task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")


async def uncancellable(work: Coroutine[Any, Any, T]) -> T:
    """Await `work` to its end even if the caller is cancelled meanwhile; the cancellation
    is raised once `work` is done.

    `work` starts in the caller's task, so work that finishes without waiting costs no turn
    of the event loop; at its first wait it moves into a task that cancelling the caller
    does not stop. anyio cancels again at every await: the caller keeps waiting regardless.
    """
    try:
        waiting_on = work.send(None)
    except StopIteration as finished:
        done: T = finished.value
        return done
    task = asyncio.ensure_future(_rest(work, waiting_on))
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is not None:
        raise cancelled
    return task.result()


async def _rest(work: Coroutine[Any, Any, T], waiting_on: Any) -> T:
    return await _Resumed(work, waiting_on)


class _Resumed(Generic[T]):
    """The rest of a coroutine that has already run up to a wait (it yielded `waiting_on`).

    Awaiting this hands `waiting_on` to the awaiting task first, then relays between the task
    and the coroutine exactly as `await` would have from the start.
    """

    __slots__ = ("_waiting_on", "_work")

    def __init__(self, work: Coroutine[Any, Any, T], waiting_on: Any) -> None:
        self._work = work
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, T]:
        work, signal = self._work, self._waiting_on
        while True:
            try:
                try:
                    answer = yield signal
                except GeneratorExit:
                    work.close()
                    raise
                except BaseException as exc:  # thrown in by the task (a cancellation)
                    signal = work.throw(exc)
                else:
                    signal = work.send(answer)
            except StopIteration as finished:
                result: T = finished.value
                return result


class UnitOfWorkSession(AsyncSession):
    """`async with sessions() as session` closes the session in place (see the module)."""

    async def __aexit__(
        self,
        type_: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await uncancellable(self.close())


class _Begun:
    """`async with sessions.begin() as session`: commits (or rolls back) and closes in place."""

    __slots__ = ("_session", "_transaction")

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._transaction = session.begin()

    async def __aenter__(self) -> AsyncSession:
        await self._transaction.__aenter__()
        return self._session

    async def __aexit__(
        self,
        type_: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        async def end() -> None:
            try:
                await self._transaction.__aexit__(type_, value, traceback)
            finally:
                await self._session.close()  # also when the commit itself failed

        await uncancellable(end())


class Sessions(async_sessionmaker[AsyncSession]):
    """A session factory whose units of work end in place (see the module)."""

    def begin(self) -> _Begun:  # type: ignore[override]  # the same protocol, ended in place
        return _Begun(self())
