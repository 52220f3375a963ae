"""Appending to the event log. Callers pass their own session: the event commits with the change.

Appending also schedules the event's webhook deliveries in that same transaction, so an
accepted change, its event and the jobs that announce it exist together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import Event
from tidings_server.store.repositories.events import EventWriting
from tidings_server.webhooks.fanout import schedule_deliveries

CATALOGUE = {
    "message.received": "A message arrived in a mailbox (from outside or from another agent).",
    "message.sent": "A remote server accepted a send for one recipient (or it was captured).",
    "message.delivered": "A send reached a mailbox hosted here.",
    "message.delayed": "Delivery to a recipient failed for now and will be tried again.",
    "message.bounced": "A recipient's server refused the message; a report is in the mailbox.",
    "message.failed": "Delivery to a recipient was given up after retrying for its lifetime.",
    "webhook.test": "Sent by POST /v1/webhooks/subscriptions/{id}/test to that subscription only.",
    "webhook.disabled": "A subscription was disabled (410 Gone, or failing for days).",
    "marketplace.request_received": "A seller's mailbox received a marketplace request.",
    "marketplace.settled": "A marketplace request was settled (buyer charged, seller paid).",
    "marketplace.expired": "A marketplace request expired unanswered; its budget is released.",
}
EVENT_TYPES = tuple(CATALOGUE)
# Sent only to the subscription being tested, never fanned out to every subscriber.
TARGETED_TYPES = frozenset({"webhook.test"})


async def append_event(
    session: AsyncSession,
    *,
    org_id: str,
    type_: str,
    data: dict[str, Any],
    now: datetime,
    identity_id: str | None = None,
    mailbox_id: str | None = None,
) -> Event:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    writing = EventWriting(session, org_id)
    await writing.hold_order()
    event = Event(
        id=ids.new_id("evt"),
        org_id=org_id,
        identity_id=identity_id,
        mailbox_id=mailbox_id,
        type=type_,
        data=data,
        created_at=now,
    )
    await insert_rows(session, [event])  # assigns seq, which orders the deliveries
    if type_ not in TARGETED_TYPES:
        await schedule_deliveries(session, event, await writing.subscribers(event), now=now)
    return event
