"""Per-key request limits in fixed windows, with the `X-RateLimit-*` headers that describe them.

On SQLite (one process) counting happens in memory; on PostgreSQL it happens in the database
so that every process shares one count per key.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.errors import RateLimited
from tidings_server.settings import RateLimit
from tidings_server.store.repositories import RateLimitRepository

log = logging.getLogger("tidings.api")


@dataclass(frozen=True)
class RateDecision:
    limit: int
    remaining: int
    reset_at: int  # Unix seconds when the window ends
    allowed: bool

    def header_pairs(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_at).encode()),
        ]

    def error(self, now: float) -> RateLimited:
        wait = max(1, math.ceil(self.reset_at - now))
        return RateLimited(
            f"This key made more than {self.limit} requests in its window.",
            fix=f"Wait {wait} seconds (Retry-After), then retry; or spread requests out.",
            headers={"Retry-After": str(wait)},
        )


class RateLimiter(Protocol):
    async def hit(self, key_id: str, now: float) -> RateDecision: ...


def _decide(policy: RateLimit, window_start: int, count: int) -> RateDecision:
    return RateDecision(
        limit=policy.requests,
        remaining=max(0, policy.requests - count),
        reset_at=window_start + policy.window_seconds,
        allowed=count <= policy.requests,
    )


class MemoryRateLimiter:
    """Counts in this process: right for the single-process SQLite deployment."""

    def __init__(self, policy: RateLimit) -> None:
        self.policy = policy
        self._counts: dict[str, tuple[int, int]] = {}

    async def hit(self, key_id: str, now: float) -> RateDecision:
        window = int(now) - int(now) % self.policy.window_seconds
        start, count = self._counts.get(key_id, (window, 0))
        if start != window:
            start, count = window, 0
        count += 1
        self._counts[key_id] = (start, count)
        return _decide(self.policy, start, count)


@dataclass
class _Tally:
    """One key's window as this process knows it: the database's count at the last sync
    plus the hits admitted here since (those a sync is adding right now, and the rest)."""

    window: int
    shared: int = 0
    syncing: int = 0
    pending: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one sync at a time
    flush: asyncio.TimerHandle | None = None

    @property
    def count(self) -> int:
        return self.shared + self.syncing + self.pending

    @property
    def learnt(self) -> bool:
        """Whether a sync has brought the database's count (every sync adds at least one)."""
        return self.shared > 0


class DatabaseRateLimiter:
    """Counts in PostgreSQL, shared by every process.

    A transaction per request on one hot row per key made every request of a busy key wait
    for the others' commits. So each process adds its hits to the row in batches: below half
    of a key's budget a timer adds them `sync_seconds` after the first one not yet added, and
    from half on every request waits for the database's count. A key's first request in a
    window waits too, to learn what other processes have counted. A key can go over its
    limit only by what other processes admitted in their last `sync_seconds` while they
    still counted it below half. (Below half, a request that carried the batch waited four
    round trips, and was the slowest hundredth of a busy key's requests.)
    """

    def __init__(
        self,
        policy: RateLimit,
        sessions: async_sessionmaker[AsyncSession],
        sync_seconds: float = 0.1,
    ) -> None:
        self.policy = policy
        self.sessions = sessions
        self.sync_seconds = sync_seconds
        self._tallies: dict[str, _Tally] = {}
        self._flushes: set[asyncio.Task[None]] = set()

    async def hit(self, key_id: str, now: float) -> RateDecision:
        window = int(now) - int(now) % self.policy.window_seconds
        tally = self._tallies.get(key_id)
        if tally is None or tally.window != window:
            tally = self._tallies[key_id] = _Tally(window)
        tally.pending += 1
        close = 2 * tally.count >= self.policy.requests
        # Near the limit every request waits for a count from the database; below it, only
        # the window's first does, and the rest are counted by the timer's sync.
        if close or (not tally.learnt and not tally.lock.locked()):
            async with tally.lock:
                await self._sync(key_id, tally)
        elif tally.flush is None:
            loop = asyncio.get_running_loop()
            tally.flush = loop.call_later(self.sync_seconds, self._flush_soon, key_id, tally)
        return _decide(self.policy, window, tally.count)

    async def _sync(self, key_id: str, tally: _Tally) -> None:
        # Until the database answers, the hits being added still count for this process's
        # decisions: a request deciding meanwhile would otherwise miss them.
        tally.syncing, tally.pending = tally.pending, 0
        try:
            async with self.sessions.begin() as session:
                await session.execute(text("SET LOCAL synchronous_commit = off"))
                counters = RateLimitRepository(session)
                tally.shared = await counters.add(key_id, tally.window, tally.syncing)
                if random.random() < 0.01:
                    await counters.forget_before(tally.window - self.policy.window_seconds)
        except BaseException:
            tally.pending += tally.syncing
            raise
        finally:
            tally.syncing = 0

    def _flush_soon(self, key_id: str, tally: _Tally) -> None:
        tally.flush = None
        task = asyncio.ensure_future(self._flush(key_id, tally))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self, key_id: str, tally: _Tally) -> None:
        try:
            async with tally.lock:
                if tally.pending:
                    await self._sync(key_id, tally)
        except Exception:
            # The hits stay pending; the key's next request carries them.
            log.warning("could not add request counts to the rate limit", exc_info=True)
