"""Collecting orphan blobs: files written before a crash (or a refused commit) that no row uses.

Blobs are written before the rows that refer to them, so a blob younger than the grace
period may belong to a transaction still in flight; only older ones are considered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.blobs.protocol import BlobStore
from tidings_server.store.models import Attachment, Message

GRACE = timedelta(hours=1)


async def _referenced(session: AsyncSession, keys: list[str]) -> set[str]:
    used = await session.scalars(
        sa.union(
            sa.select(Message.raw_blob).where(Message.raw_blob.in_(keys)),
            sa.select(Attachment.blob).where(Attachment.blob.in_(keys)),
        )
    )
    return set(used)


async def collect_orphans(
    blobs: BlobStore,
    reads: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    grace: timedelta = GRACE,
    batch: int = 500,
) -> int:
    """Delete unreferenced blobs last written before `now - grace`; returns how many."""
    deleted = 0
    candidates: list[str] = []

    async def sweep() -> int:
        async with reads() as session:
            used = await _referenced(session, candidates)
        orphans = [key for key in candidates if key not in used]
        for key in orphans:
            await blobs.delete(key)
        candidates.clear()
        return len(orphans)

    async for key in blobs.keys_written_before(now - grace):
        candidates.append(key)
        if len(candidates) >= batch:
            deleted += await sweep()
    if candidates:
        deleted += await sweep()
    return deleted
