"""Queries on webhook subscriptions, their deliveries and attempts; and the worker's job queue."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.models import Event, Webhook, WebhookAttempt, WebhookDelivery
from tidings_server.store.repositories.base import (
    ClaimQuery,
    Page,
    PageRequest,
    ScopedRepository,
)


class WebhookRepository(ScopedRepository[Webhook]):
    model = Webhook


class WebhookDeliveryRepository(ScopedRepository[WebhookDelivery]):
    model = WebhookDelivery

    async def page_filtered(
        self,
        request: PageRequest,
        *,
        webhook_id: str | None = None,
        event_id: str | None = None,
        status: str | None = None,
    ) -> Page[WebhookDelivery]:
        filters: list[sa.ColumnElement[bool]] = []
        if webhook_id is not None:
            filters.append(WebhookDelivery.webhook_id == webhook_id)
        if event_id is not None:
            filters.append(WebhookDelivery.event_id == event_id)
        if status is not None:
            filters.append(WebhookDelivery.status == status)
        return await self.page(request, *filters)

    async def attempts_of(self, delivery_ids: list[str]) -> dict[str, list[WebhookAttempt]]:
        """Each delivery's attempts, oldest first."""
        found: dict[str, list[WebhookAttempt]] = defaultdict(list)
        if not delivery_ids:
            return found
        stmt = (
            self.scope.select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.id)
        )
        for attempt in await self.session.scalars(stmt):
            found[attempt.delivery_id].append(attempt)
        return found

    async def cancel_pending(self, webhook_id: str, now: datetime) -> None:
        """A disabled subscription's waiting deliveries end; replay can send them later."""
        await self.session.execute(
            sa.update(WebhookDelivery)
            .where(
                *self.scope.where(WebhookDelivery),
                WebhookDelivery.webhook_id == webhook_id,
                WebhookDelivery.status == "pending",
            )
            .values(status="cancelled", lease_until=None, updated_at=now, completed_at=now)
        )

    async def event(self, event_id: str) -> Event | None:
        return await self.session.scalar(self.scope.select(Event).where(Event.id == event_id))


# The head of each (subscription, mailbox) order: its earliest pending delivery. Found in one
# pass over the pending rows; a per-row "no earlier pending one" probe walked every finished
# delivery before it, which made each claim quadratic in the backlog.
_HEADS = (
    sa.select(
        WebhookDelivery.webhook_id,
        WebhookDelivery.order_key,
        sa.func.min(WebhookDelivery.event_seq).label("event_seq"),
    )
    .where(WebhookDelivery.status == "pending")
    .group_by(WebhookDelivery.webhook_id, WebhookDelivery.order_key)
    .cte("heads")
)
_DUE = ClaimQuery(
    sa.select(WebhookDelivery.id)
    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
    .join(
        _HEADS,
        sa.and_(
            _HEADS.c.webhook_id == WebhookDelivery.webhook_id,
            _HEADS.c.order_key == WebhookDelivery.order_key,
            _HEADS.c.event_seq == WebhookDelivery.event_seq,
        ),
    )
    .where(
        WebhookDelivery.status == "pending",
        WebhookDelivery.next_attempt_at <= sa.bindparam("now"),
        sa.or_(
            WebhookDelivery.lease_until.is_(None),
            WebhookDelivery.lease_until < sa.bindparam("now"),
        ),
        Webhook.enabled.is_(True),
    )
    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.event_seq)
    .limit(sa.bindparam("limit", type_=sa.Integer)),
    of=WebhookDelivery,
)


class WebhookJobs:
    """The delivery queue across every organisation, as the worker sees it.

    Only the worker uses this: it acts for whichever organisation owns a due delivery, and
    every row it touches was chosen by id from a delivery it holds the lease on.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Ids of deliveries that may go now: due, unleased, enabled, first in their order."""
        stmt = _DUE.stmt(self.session)
        return list(await self.session.scalars(stmt, {"now": now, "limit": limit}))

    async def next_run(
        self, webhook_id: str, order_key: str, now: datetime, *, limit: int, max_bytes: int
    ) -> list[str]:
        """The next deliveries of one order, from its head, that may all go now: at most
        `limit`, and no more than the first once their events' data passes `max_bytes`. For
        the worker that just finished the ones before them, which takes them over without
        waiting for a claim pass."""
        rows = await self.session.execute(
            sa.select(
                WebhookDelivery.id,
                WebhookDelivery.next_attempt_at,
                WebhookDelivery.lease_until,
                sa.func.length(sa.cast(Event.data, sa.Text)).label("size"),
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.webhook_id == webhook_id,
                WebhookDelivery.order_key == order_key,
                WebhookDelivery.status == "pending",
                Webhook.enabled.is_(True),
            )
            .order_by(WebhookDelivery.event_seq)
            .limit(limit)
        )
        # Judged in order after reading, never in the query: a filter there would skip one
        # that must wait and hand out the deliveries behind it, out of order.
        run: list[str] = []
        size = 0
        for row in rows:
            leased = row.lease_until is not None and row.lease_until >= now
            size += row.size or 0
            if row.next_attempt_at > now or leased or (run and size > max_bytes):
                break
            run.append(str(row.id))
        return run

    async def lease(self, delivery_ids: list[str], until: datetime) -> None:
        await self.session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids))
            .values(lease_until=until, attempts=WebhookDelivery.attempts + 1)
        )

    async def release(self, delivery_ids: list[str], lease_until: datetime) -> None:
        """Hand back leased deliveries that were not attempted after all."""
        await self.session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(delivery_ids),
                WebhookDelivery.lease_until == lease_until,
            )
            .values(lease_until=None, attempts=WebhookDelivery.attempts - 1)
        )

    async def held(self, delivery_ids: list[str]) -> dict[str, WebhookDelivery]:
        """The given deliveries by id, locked until the transaction ends (on PostgreSQL), in
        their order's sequence: one statement for a run, where a lookup each was most of
        recording it."""
        stmt = (
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids))
            .order_by(WebhookDelivery.event_seq)
            .with_for_update()
        )
        return {delivery.id: delivery for delivery in await self.session.scalars(stmt)}

    async def loaded(self, delivery_ids: list[str]) -> list[tuple[WebhookDelivery, Webhook, Event]]:
        stmt = (
            sa.select(WebhookDelivery, Webhook, Event)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id.in_(delivery_ids))
            .order_by(WebhookDelivery.event_seq)
        )
        return [(row[0], row[1], row[2]) for row in await self.session.execute(stmt)]
