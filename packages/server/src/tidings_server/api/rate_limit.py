"""Per-key request limits in fixed windows, with the `X-RateLimit-*` headers that describe them.

On SQLite (one process) counting happens in memory; on PostgreSQL it happens in the database
so that every process shares one count per key.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.errors import RateLimited
from tidings_server.settings import RateLimit
from tidings_server.store.repositories import RateLimitRepository


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
    plus the hits admitted here since."""

    window: int
    shared: int = 0
    pending: int = 0
    synced_at: float = -math.inf
    syncing: bool = False


class DatabaseRateLimiter:
    """Counts in PostgreSQL, shared by every process.

    A transaction per request on one hot row per key made every request of a busy key wait
    for the others' commits. So each process adds its hits to the row in batches: at most
    every `sync_seconds`, and on every request once the key has used half of its budget,
    where being exact matters. Below half, a process may not yet see what the others
    admitted in the last `sync_seconds`.
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

    async def hit(self, key_id: str, now: float) -> RateDecision:
        window = int(now) - int(now) % self.policy.window_seconds
        tally = self._tallies.get(key_id)
        if tally is None or tally.window != window:
            tally = self._tallies[key_id] = _Tally(window)
        tally.pending += 1
        due = now >= tally.synced_at + self.sync_seconds
        close = 2 * (tally.shared + tally.pending) >= self.policy.requests
        if not tally.syncing and (due or close):
            await self._sync(key_id, tally, now)
        return _decide(self.policy, window, tally.shared + tally.pending)

    async def _sync(self, key_id: str, tally: _Tally, now: float) -> None:
        # Requests arriving meanwhile count locally; the next sync carries them.
        tally.syncing = True
        added, tally.pending = tally.pending, 0
        try:
            async with self.sessions.begin() as session:
                await session.execute(text("SET LOCAL synchronous_commit = off"))
                counters = RateLimitRepository(session)
                tally.shared = await counters.add(key_id, tally.window, added)
                if random.random() < 0.01:
                    await counters.forget_before(tally.window - self.policy.window_seconds)
        except BaseException:
            tally.pending += added
            raise
        finally:
            tally.syncing = False
        tally.synced_at = now
