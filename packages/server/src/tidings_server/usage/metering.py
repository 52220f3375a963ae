"""Metering a send: price what it reports, check the quotas, and book it in the ledger.

`price` comes first (the prices travel in the message's headers), `admit` checks quotas
before anything is stored (a refused send stores nothing), and `book` runs after, in the
same transaction, so an accepted send and its entries commit together. A retried send with
the same idempotency key replays the first answer and books nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.directory.keys import Principal
from tidings_server.store.models import Message
from tidings_server.store.repositories.usage import PricingRepository
from tidings_server.usage import headers
from tidings_server.usage.amounts import NANOS
from tidings_server.usage.ledger import Booking, Kind, Ledger
from tidings_server.usage.pricing import (
    EMAILS_SENT,
    Prices,
    UsageLine,
    UsageReport,
    capped,
    total,
)
from tidings_server.usage.quotas import Quotas


@dataclass(frozen=True)
class Billing:
    """How a send's reported usage is booked.

    `usage`: it is the sender's own spend. `marketplace_earning`: it is what a buyer owes the
    sender, capped at the buyer's budget. `hold` is budget the send reserves (a marketplace
    request), which counts as spend until it is settled.
    """

    kind: Kind = "usage"
    hold: int = 0
    cap: int | None = None
    headers: Sequence[tuple[str, str]] = ()
    marketplace_request_id: str | None = None


@dataclass(frozen=True)
class Charge:
    """A send's usage, priced on the sender's plan, ready to carry and to book."""

    reservation_key: str
    currency: str
    billing: Billing
    usage: UsageReport | None
    priced: list[UsageLine] = field(default_factory=list)

    @property
    def booked(self) -> list[UsageLine]:
        if self.billing.kind == "marketplace_earning":
            return capped(self.priced, self.billing.cap)
        return self.priced

    @property
    def spend(self) -> int:
        own = total(self.booked) if self.billing.kind == "usage" else 0
        return own + self.billing.hold

    @property
    def mime_headers(self) -> list[tuple[str, str]]:
        carried = [*self.billing.headers, *headers.usage_headers(self.priced, with_amounts=True)]
        if self.billing.kind == "marketplace_earning":
            carried.append((headers.CHARGE, headers.money(total(self.booked), self.currency)))
        return carried

    @property
    def usage_json(self) -> dict[str, Any] | None:
        return None if self.usage is None else self.usage.to_json()


class SendMetering:
    def __init__(self, session: AsyncSession, principal: Principal, currency: str) -> None:
        self.session = session
        self.principal = principal
        self.currency = currency
        self.quotas = Quotas(session, principal.scope)

    async def price(self, identity_id: str, usage: UsageReport | None, billing: Billing) -> Charge:
        plans = PricingRepository(self.session, self.principal.scope)
        plan = None if usage is None else await plans.get(identity_id)
        return Charge(
            reservation_key=ids.new_id("rsv"),
            currency=self.currency,
            billing=billing,
            usage=usage,
            priced=Prices.of(plan).price(usage),
        )

    async def admit(
        self, identity_id: str, recipients: Sequence[str], charge: Charge, now: datetime
    ) -> None:
        """Refuse a send that would take its identity or key over a quota."""
        await self.quotas.admit(
            identity_id=identity_id,
            api_key_id=self.principal.key_id,
            recipients=recipients,
            spend=charge.spend,
            now=now,
        )

    async def book(
        self, message: Message, charge: Charge, recipients: Sequence[str], now: datetime
    ) -> None:
        booking = Booking.for_message(message, self.currency)
        ledger = Ledger(self.session, self.principal.scope)
        sent = [UsageLine(EMAILS_SENT, NANOS, 0)]
        await ledger.book(booking, now, ("send", sent), (charge.billing.kind, charge.booked))
        await self.quotas.remember_recipients(
            message.identity_id, self.principal.key_id, recipients, now
        )
