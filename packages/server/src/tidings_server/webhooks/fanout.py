"""Turning an event into delivery jobs, one per subscription, in the event's own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import Event, Webhook, WebhookDelivery


def new_delivery(
    event: Event, webhook: Webhook, *, now: datetime, replay_of: str | None = None
) -> WebhookDelivery:
    return WebhookDelivery(
        id=ids.new_id("whd"),
        org_id=event.org_id,
        identity_id=webhook.identity_id,
        webhook_id=webhook.id,
        event_id=event.id,
        event_seq=event.seq,
        order_key=event.mailbox_id or "",
        status="pending",
        attempts=0,
        next_attempt_at=now,
        replay_of=replay_of,
        created_at=now,
        updated_at=now,
    )


async def schedule_deliveries(
    session: AsyncSession, event: Event, webhooks: Iterable[Webhook], *, now: datetime
) -> list[WebhookDelivery]:
    deliveries = [new_delivery(event, webhook, now=now) for webhook in webhooks]
    await insert_rows(session, deliveries)
    return deliveries
