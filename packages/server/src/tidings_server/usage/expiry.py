"""Releasing buyers' holds that nobody answered in time (`marketplace.expired`).

Spend checks already ignore a hold past its expiry; this worker makes the release visible:
it marks the request expired and tells the buyer through an event.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.clock import Clock
from tidings_server.events import append_event
from tidings_server.polling import poll_until
from tidings_server.store.repositories.events import EventWriting
from tidings_server.store.repositories.usage import MarketplaceRepository
from tidings_server.usage.settlements import request_data

log = logging.getLogger("tidings.usage")


class ReservationSweeper:
    def __init__(
        self,
        *,
        writes: async_sessionmaker[AsyncSession],
        clock: Clock,
        poll_seconds: float,
        batch: int = 100,
    ) -> None:
        self.writes = writes
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch = batch

    async def run(self, stop: asyncio.Event) -> None:
        await poll_until(stop, self.run_once, poll_seconds=self.poll_seconds, log=log)

    async def run_once(self) -> int:
        now = self.clock.now()
        async with self.writes.begin() as session:
            rows = await MarketplaceRepository.expired(session, now, limit=self.batch)
            for row in rows:
                row.status = "expired"
                row.updated_at = now
                mailbox = await EventWriting(session, row.org_id).mailbox_of(row.identity_id)
                await append_event(
                    session,
                    org_id=row.org_id,
                    identity_id=row.identity_id,
                    mailbox_id=mailbox.id if mailbox else None,
                    type_="marketplace.expired",
                    data={"marketplace_request": request_data(row)},
                    now=now,
                )
        return len(rows)
