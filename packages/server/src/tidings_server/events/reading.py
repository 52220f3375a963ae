"""Reading the event log in order, inside the caller's scope, for polling and for streams."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.directory.keys import Principal
from tidings_server.errors import NotFound, ValidationFailed
from tidings_server.events.log import EVENT_TYPES
from tidings_server.store.models import Event
from tidings_server.store.repositories.events import EventRepository


@dataclass(frozen=True)
class EventFilter:
    """Which events a reader wants: some types (all if empty), one mailbox (all if None)."""

    types: tuple[str, ...] = ()
    mailbox_id: str | None = None

    @classmethod
    def of(cls, types: Sequence[str], mailbox_id: str | None) -> EventFilter:
        """Types may come repeated or comma-separated; each must be in the catalogue."""
        wanted = [t.strip() for value in types for t in value.split(",") if t.strip()]
        unknown = [t for t in wanted if t not in EVENT_TYPES]
        if unknown:
            raise ValidationFailed(
                f"{unknown[0]!r} is not an event type.",
                code="unknown_event_type",
                param="types",
                fix=f"Filter by any of: {', '.join(EVENT_TYPES)}.",
            )
        return cls(types=tuple(dict.fromkeys(wanted)), mailbox_id=mailbox_id)


class EventReader:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.events = EventRepository(session, principal.scope)

    async def position_after(self, event_id: str | None, *, default_to_end: bool) -> int:
        """The log position just after `event_id` (which must be visible to the caller).

        Without an event id, a poll starts at the beginning of the log and a stream at its
        end, so a new stream shows what happens from now on.
        """
        if event_id is None:
            return await self.events.last_seq() if default_to_end else 0
        seq = await self.events.seq_of(event_id)
        if seq is None:
            raise NotFound(
                f"No event {event_id!r} to continue after.",
                code="event_not_found",
                param="after",
                fix="Pass the id of an event you received, or leave `after` out.",
            )
        return seq

    async def after(self, seq: int, wanted: EventFilter, *, limit: int) -> list[Event]:
        return await self.events.after(
            seq, limit=limit, types=wanted.types, mailbox_id=wanted.mailbox_id
        )
