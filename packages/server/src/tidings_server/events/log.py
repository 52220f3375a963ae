"""Appending to the event log. Callers pass their own session: the event commits with the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.store.models import Event

EVENT_TYPES = (
    "message.received",
    "message.sent",
    "message.delivered",
    "message.delayed",
    "message.bounced",
    "message.failed",
    "webhook.test",
)


def append_event(
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
    event = Event(
        id=ids.new_id("evt"),
        org_id=org_id,
        identity_id=identity_id,
        mailbox_id=mailbox_id,
        type=type_,
        data=data,
        created_at=now,
    )
    session.add(event)
    return event
