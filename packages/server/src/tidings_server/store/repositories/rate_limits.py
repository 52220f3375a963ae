"""Fixed-window request counters in the database, so that several processes share one limit."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.models import RateLimitWindow
from tidings_server.store.repositories.dialect import upsert


class RateLimitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, api_key_id: str, window_start: int, requests: int) -> int:
        """Count `requests` more in the window and return the window's count so far."""
        stmt = (
            upsert(self.session, RateLimitWindow)
            .values(api_key_id=api_key_id, window_start=window_start, count=requests)
            .on_conflict_do_update(
                index_elements=["api_key_id", "window_start"],
                set_={"count": RateLimitWindow.count + requests},
            )
            .returning(RateLimitWindow.count)
        )
        count = await self.session.scalar(stmt)
        assert count is not None
        return int(count)

    async def forget_before(self, window_start: int) -> None:
        await self.session.execute(
            sa.delete(RateLimitWindow).where(RateLimitWindow.window_start < window_start)
        )
