"""Booking usage: every send, receipt and settlement adds entries to the append-only ledger.

An entry is one unit of one event (`emails_sent`, `tokens_input`, ...), tagged with everything
a caller may later look it up by: identity, key, message, correlation id, idempotency key,
reservation key and marketplace request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.store.models import Message, UsageEntry
from tidings_server.store.repositories.usage import LedgerRepository
from tidings_server.store.scope import Scope
from tidings_server.usage.pricing import UsageLine

Kind = Literal["send", "receipt", "usage", "marketplace_charge", "marketplace_earning"]


@dataclass(frozen=True)
class Booking:
    """What all the entries of one send, receipt or settlement share."""

    org_id: str
    identity_id: str | None
    api_key_id: str | None
    currency: str
    message_id: str | None = None
    correlation_id: str | None = None
    idempotency_key: str | None = None
    reservation_key: str | None = None
    marketplace_request_id: str | None = None

    @classmethod
    def for_message(cls, message: Message, currency: str) -> Booking:
        return cls(
            org_id=message.org_id,
            identity_id=message.identity_id,
            api_key_id=message.api_key_id,
            currency=currency,
            message_id=message.id,
            correlation_id=message.correlation_id,
            idempotency_key=message.idempotency_key,
            reservation_key=message.reservation_key,
            marketplace_request_id=message.marketplace_request_id,
        )


class Ledger:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.entries = LedgerRepository(session, scope)

    async def book(
        self, booking: Booking, now: datetime, *entries: tuple[Kind, Sequence[UsageLine]]
    ) -> list[UsageEntry]:
        """Add each `(kind, lines)` pair's entries; all of them in one statement."""
        rows = [
            UsageEntry(
                id=ids.new_id("led"),
                org_id=booking.org_id,
                identity_id=booking.identity_id,
                api_key_id=booking.api_key_id,
                message_id=booking.message_id,
                kind=kind,
                unit=line.unit,
                quantity=line.quantity,
                amount=line.amount,
                currency=booking.currency,
                correlation_id=booking.correlation_id,
                idempotency_key=booking.idempotency_key,
                reservation_key=booking.reservation_key,
                marketplace_request_id=booking.marketplace_request_id,
                created_at=now,
            )
            for kind, lines in entries
            for line in lines
        ]
        await self.entries.insert(rows)
        return rows
