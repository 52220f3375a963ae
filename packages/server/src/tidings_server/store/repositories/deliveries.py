"""The outbound delivery queue across every organisation, as the delivery worker sees it.

Only the worker uses this: it acts for whichever organisation sent a due job, and every row
it touches was chosen by id from a job it holds the lease on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from tidings_server.store.models import Delivery, Message
from tidings_server.store.repositories.base import ClaimQuery

PENDING = ("queued", "deferred")

_DUE = ClaimQuery(
    sa.select(Delivery.id)
    .where(
        Delivery.status.in_(PENDING),
        Delivery.next_attempt_at <= sa.bindparam("now"),
        sa.or_(Delivery.lease_until.is_(None), Delivery.lease_until < sa.bindparam("now")),
    )
    .order_by(Delivery.next_attempt_at, Delivery.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


def _of_message(column: InstrumentedAttribute[Any]) -> sa.ScalarSelect[Any]:
    return sa.select(column).where(Message.id == Delivery.message_id).scalar_subquery()


# What a claim hands the worker, in this order. The message's sender and raw blob come with
# each job (its foreign key keeps the message there), so a delivery needs no read of its own.
CLAIMED_COLUMNS = (
    Delivery.id,
    Delivery.message_id,
    Delivery.recipient,
    Delivery.domain,
    Delivery.route,
    Delivery.attempts,
    Delivery.expires_at,
    Delivery.lease_until,
    _of_message(Message.envelope_from),
    _of_message(Message.raw_blob),
)


class DeliveryJobs:
    """Claiming, settling and reading the jobs of outbound messages."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lease_due(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> list[tuple[Any, ...]]:
        """Lease up to `limit` due jobs until `lease_until`, counting the attempt; returns
        their `CLAIMED_COLUMNS`."""
        params = {"now": now, "limit": limit}
        ids = list(await self.session.scalars(_DUE.stmt(self.session), params))
        if not ids:
            return []
        leased = await self.session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(lease_until=lease_until, attempts=Delivery.attempts + 1)
            .returning(*CLAIMED_COLUMNS)
        )
        return [tuple(row) for row in leased]

    async def settle(self, job_id: int, lease_until: datetime, changes: dict[str, Any]) -> bool:
        """Record a job's outcome, only while the lease it was claimed with holds: once that
        ran out another worker may have taken the job. Returns whether it did."""
        still_ours = await self.session.scalar(
            sa.update(Delivery)
            .where(Delivery.id == job_id, Delivery.lease_until == lease_until)
            .values(changes)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        return still_ours is not None

    async def statuses(self, message_id: str) -> list[str]:
        """The statuses of a message's deliveries, one per recipient."""
        stmt = sa.select(Delivery.status).where(Delivery.message_id == message_id)
        return list(await self.session.scalars(stmt))

    async def message(self, message_id: str) -> Message | None:
        """The message whose deliveries are being settled, with what its events tell."""
        return await self.session.get(
            Message, message_id, options=[selectinload(Message.attachments)]
        )
