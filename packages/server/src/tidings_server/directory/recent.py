"""Answers the directory gave recently, kept for a few seconds so that hot paths skip a lookup.

Three paths use them: authenticating an API key (`keys.PrincipalCache`), an SMTP recipient
check (`mail.receiving`) and who a send goes out as (`mail.sending`). An entry lives
`ttl_seconds`. A change made through this process (a key revoked; an identity or mailbox
renamed, paused or deleted) marks its unit of work with `directory_changed`, and once that
commits every such cache is cleared; a change made by another process (another server, the
CLI) is honoured within `ttl_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Set on a unit of work that changes who may do what or who exists; read as it commits.
DIRECTORY_CHANGED = "tidings.directory_changed"


def directory_changed(session: AsyncSession) -> None:
    session.info[DIRECTORY_CHANGED] = True


class Recent(Generic[K, V]):
    """A map whose entries are forgotten `ttl_seconds` after they were put; with
    `ttl_seconds=0` it keeps nothing. When full it starts again empty: entries are cheap to
    look up again, and a full map means many different keys, for which it would help little."""

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.monotonic = monotonic
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self.monotonic() - stored_at >= self.ttl:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (self.monotonic(), value)

    def update(self, key: K, value: V) -> None:
        """A new value for a key already held, which keeps its time; nothing if not held."""
        if key in self._entries:
            self._entries[key] = (self._entries[key][0], value)

    def clear(self) -> None:
        self._entries.clear()
