"""SQLite connections whose calls run on the event loop's thread instead of aiosqlite's.

aiosqlite hands every call (cursor, execute, fetch, close: four a statement) to a worker
thread and wakes the loop when it is done. On a local WAL database a statement takes
microseconds and a commit one fsync, so the hand-offs cost more than the work: measured,
they were a third of an API send. These connections keep aiosqlite's interface (SQLAlchemy's
`sqlite+aiosqlite` dialect drives them unchanged) but run each call at once.

Only calls that cannot wait for long may run here: the loop stops while they do. Nothing
waits in SQLite's busy handler (`busy_timeout` is short); a write transaction that finds the
database locked by another process waits for it with `asyncio.sleep` (`begin_immediate`).
Long reads (full-text search over a large mailbox) keep using aiosqlite's thread, and so
do statements that carry large values (a 20 MB body to store and index) and every commit
that may write, which waits for fsync: sqlite3 lets go of the GIL while it works, so the
loop goes on answering. A connection opened to read only (`PRAGMA query_only`, set by the
engine) commits inline: ending a read transaction waits for nothing, and handing it to the
thread cost more than half of a fifty-row list's query.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiosqlite
import sqlalchemy as sa
from sqlalchemy.util import await_

# Reads in WAL mode never wait for writers; this only covers rare WAL-index recovery.
INLINE_BUSY_TIMEOUT_MS = 50
_LOCK_RETRY_SECONDS = (0.001, 0.005, 0.02, 0.05, 0.1)
# Above this many bytes of text and blobs a statement (or its transaction's commit) takes
# milliseconds: long enough to hand to the thread, where the hand-off is cheap beside it.
LARGE_VALUES_BYTES = 64 * 1024


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs each call inline, except commits that may write
    and calls that carry large values: those run on its thread."""

    _uncommitted_bytes = 0
    # Whether the connection may write, so that its commits may wait for fsync.
    writes = True

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if self._belongs_on_thread(getattr(fn, "__name__", ""), args):
            # aiosqlite's queue to its thread; it leaves this method unannotated.
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        return fn(*args, **kwargs)

    def _belongs_on_thread(self, call: str, args: tuple[Any, ...]) -> bool:
        """Whether this call commits, or carries (or rolls back) large values; counts what
        it carries."""
        if call in ("commit", "rollback"):
            carried, self._uncommitted_bytes = self._uncommitted_bytes, 0
            # A commit that wrote waits for fsync: about a millisecond here, which the loop
            # spends on other requests rather than stopped (the hand-off costs far less).
            return (call == "commit" and self.writes) or carried > LARGE_VALUES_BYTES
        if call == "execute" and len(args) == 2:
            size = _values_bytes(args[1])
        elif call == "executemany" and len(args) == 2 and isinstance(args[1], list | tuple):
            size = sum(_values_bytes(row) for row in args[1])
        else:
            return False
        self._uncommitted_bytes += size
        return size > LARGE_VALUES_BYTES


def _values_bytes(parameters: Iterable[Any] | Mapping[str, Any]) -> int:
    values = parameters.values() if isinstance(parameters, Mapping) else parameters
    return sum(len(value) for value in values if isinstance(value, str | bytes))


def inline_creator(path: str, *, writes: bool = True) -> Callable[[], Any]:
    """`async_creator` for `create_async_engine`: a new inline connection to `path`; with
    `writes` false, the engine must keep it from writing (`PRAGMA query_only`)."""

    def connector() -> sqlite3.Connection:
        # The connection is opened on aiosqlite's thread and then used on the loop's.
        return sqlite3.connect(path, check_same_thread=False)

    async def create() -> aiosqlite.Connection:
        connection = InlineConnection(connector, iter_chunk_size=64)
        connection.writes = writes
        return await connection

    return create


def begin_immediate(connection: sa.Connection, timeout_seconds: float) -> None:
    """`BEGIN IMMEDIATE`, waiting (without blocking the loop) while another process writes."""
    deadline = time.monotonic() + timeout_seconds
    attempt = 0
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except sa.exc.OperationalError as error:
            if "locked" not in str(error.orig) or time.monotonic() >= deadline:
                raise
        delay = _LOCK_RETRY_SECONDS[min(attempt, len(_LOCK_RETRY_SECONDS) - 1)]
        attempt += 1
        await_(asyncio.sleep(delay))
