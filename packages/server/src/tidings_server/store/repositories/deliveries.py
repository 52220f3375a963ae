"""The outbound delivery queue across every organisation, as the delivery worker sees it.

Only the worker uses this: it acts for whichever organisation sent a due job, and every row
it touches was chosen by id from a job it holds the lease on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from tidings_server.store.models import Delivery, Mailbox, Message, Thread
from tidings_server.store.repositories.base import ClaimQuery

PENDING = ("queued", "deferred")

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
    Message.envelope_from,
    Message.raw_blob,
)
_ATTEMPTS = CLAIMED_COLUMNS.index(Delivery.attempts)
_LEASE_UNTIL = CLAIMED_COLUMNS.index(Delivery.lease_until)

# The message's columns come from a join here, not from subqueries in the UPDATE's RETURNING:
# SQLite plans subqueries there without indexes, so every claimed job scanned the messages
# table (a claim of 14 jobs took 4 ms with 2,000 messages stored, 1.6 s with 202,000).
_DUE = ClaimQuery(
    sa.select(*CLAIMED_COLUMNS)
    .join(Message, Message.id == Delivery.message_id)
    .where(
        Delivery.status.in_(PENDING),
        Delivery.next_attempt_at <= sa.bindparam("now"),
        sa.or_(Delivery.lease_until.is_(None), Delivery.lease_until < sa.bindparam("now")),
    )
    .order_by(Delivery.next_attempt_at, Delivery.id)
    .limit(sa.bindparam("limit", type_=sa.Integer)),
    of=Delivery,
)

# On the table, built once, its SET clause the changes' keys: an ORM update built per
# settle computed its cache key anew every time.
_DELIVERIES = cast(sa.Table, Delivery.__table__)
_SETTLE = (
    sa.update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == sa.bindparam("job_id"),
        _DELIVERIES.c.lease_until == sa.bindparam("claimed_lease"),
    )
    .returning(_DELIVERIES.c.id)
)

# A settle's one read: the message with its attachments, thread and mailbox (what its events
# tell) and how many deliveries it has, so one that settles them all needs no second look.
_SETTLING = (
    sa.select(
        Message,
        Thread,
        Mailbox,
        sa.select(sa.func.count())
        .where(Delivery.message_id == Message.id)
        .scalar_subquery()
        .label("deliveries"),
    )
    .join(Thread, Thread.id == Message.thread_id)
    .join(Mailbox, Mailbox.id == Message.mailbox_id)
    .where(Message.id == sa.bindparam("message_id"))
    .options(joinedload(Message.attachments))
)


@dataclass(frozen=True)
class Settling:
    """A message whose deliveries are being settled, and what its events tell about it."""

    message: Message  # attachments loaded
    thread: Thread
    mailbox: Mailbox
    deliveries: int  # one per recipient, settled or not


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
        due = (await self.session.execute(_DUE.stmt(self.session), params)).all()
        if not due:
            return []
        await self.session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_([row[0] for row in due]))
            .values(lease_until=lease_until, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        # The rows are locked (PostgreSQL) or this is the only writer (SQLite): what the
        # UPDATE wrote is known without reading it back.
        leased = []
        for row in due:
            job = list(row)
            job[_ATTEMPTS] += 1
            job[_LEASE_UNTIL] = lease_until
            leased.append(tuple(job))
        return leased

    async def settle(self, job_id: int, lease_until: datetime, changes: dict[str, Any]) -> bool:
        """Record a job's outcome (`changes`: column names and values), only while the lease
        it was claimed with holds: once that ran out another worker may have taken the job.
        Returns whether it did."""
        params = {"job_id": job_id, "claimed_lease": lease_until, **changes}
        still_ours = await self.session.scalar(_SETTLE, params)
        return still_ours is not None

    async def statuses(self, message_id: str) -> list[str]:
        """The statuses of a message's deliveries, one per recipient."""
        stmt = sa.select(Delivery.status).where(Delivery.message_id == message_id)
        return list(await self.session.scalars(stmt))

    async def settling(self, message_id: str) -> Settling | None:
        """The message whose deliveries are being settled, or None if it was deleted."""
        result = await self.session.execute(_SETTLING, {"message_id": message_id})
        row = result.unique().first()
        return None if row is None else Settling(*row)
