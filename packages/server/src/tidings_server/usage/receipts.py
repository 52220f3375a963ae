"""What a received message books: the receipt, and the marketplace terms it carries.

A request opens the seller's side (`marketplace.request_received`). An answer settles the
buyer's hold, but only a genuine one: from the seller the request went to, in reply to the
request's own Message-ID, before the hold expired, in the same currency. Anything else is
filed as ordinary mail and settles nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.events import append_event
from tidings_server.events.payloads import message_data
from tidings_server.store.models import Mailbox, MarketplaceRequest, Message
from tidings_server.store.repositories.usage import MarketplaceRepository
from tidings_server.store.scope import Scope
from tidings_server.usage.amounts import NANOS
from tidings_server.usage.headers import MarketplaceTerms
from tidings_server.usage.ledger import Booking, Ledger
from tidings_server.usage.pricing import EMAILS_RECEIVED, UsageLine, capped
from tidings_server.usage.settlements import request_data, settle

log = logging.getLogger("tidings.usage")


async def book_receipt(
    session: AsyncSession,
    mailbox: Mailbox,
    message: Message,
    terms: MarketplaceTerms | None,
    *,
    currency: str,
    now: datetime,
) -> None:
    scope = Scope(org_id=mailbox.org_id, identity_id=mailbox.identity_id)
    receipt = [UsageLine(EMAILS_RECEIVED, NANOS, 0)]
    booking = Booking.for_message(message, currency)
    await Ledger(session, scope).book(booking, now, ("receipt", receipt))
    if terms is None:
        return
    requests = MarketplaceRepository(session, scope)
    if terms.is_answer:
        await _settle_buyer(session, requests, mailbox, message, terms, now)
    elif terms.budget is not None:
        await _open_seller(session, requests, mailbox, message, terms, now)


async def _open_seller(
    session: AsyncSession,
    requests: MarketplaceRepository,
    mailbox: Mailbox,
    message: Message,
    terms: MarketplaceTerms,
    now: datetime,
) -> None:
    buyer = message.from_address
    if buyer is None or buyer == mailbox.address or terms.budget is None:
        return
    if await requests.find(mailbox.identity_id, "seller", terms.request_id) is not None:
        log.info("marketplace request %s received again; kept the first", terms.request_id)
        return
    budget, currency = terms.budget
    row = MarketplaceRequest(
        id=ids.new_id("mkr"),
        org_id=mailbox.org_id,
        identity_id=mailbox.identity_id,
        role="seller",
        marketplace_request_id=terms.request_id,
        counterparty=buyer,
        message_id=message.id,
        rfc_message_id=message.rfc_message_id,
        correlation_id=message.correlation_id,
        currency=currency,
        budget=budget,
        status="open",
        expires_at=terms.expires_at,
        created_at=now,
        updated_at=now,
    )
    requests.add(row)
    await session.flush()
    await append_event(
        session,
        org_id=mailbox.org_id,
        identity_id=mailbox.identity_id,
        mailbox_id=mailbox.id,
        type_="marketplace.request_received",
        data={**await message_data(session, message), "marketplace_request": request_data(row)},
        now=now,
    )


def _why_not_settled(
    row: MarketplaceRequest | None, message: Message, terms: MarketplaceTerms, now: datetime
) -> str | None:
    if row is None:
        return "no such request of this buyer"
    if row.status != "held":
        return f"the request is already {row.status}"
    if row.expires_at is not None and row.expires_at <= now:
        return "the request has expired"
    if message.from_address != row.counterparty:
        return f"the answer is from {message.from_address}, not {row.counterparty}"
    if row.rfc_message_id not in (message.in_reply_to, *message.references):
        return "the answer does not reply to the request"
    if terms.charge is None or terms.charge[1] != row.currency:
        return "the charge is not in the request's currency"
    return None


async def _settle_buyer(
    session: AsyncSession,
    requests: MarketplaceRepository,
    mailbox: Mailbox,
    message: Message,
    terms: MarketplaceTerms,
    now: datetime,
) -> None:
    row = await requests.find(mailbox.identity_id, "buyer", terms.request_id)
    reason = _why_not_settled(row, message, terms, now)
    if reason is not None or row is None or terms.charge is None:
        log.info("marketplace answer %s not settled: %s", message.id, reason)
        return
    # Never more than the budget held, the charge the seller declared, or its lines' sum.
    limit = min(row.budget or 0, terms.charge[0])
    lines = capped(terms.lines, limit)
    booking = Booking(
        org_id=row.org_id,
        identity_id=row.identity_id,
        api_key_id=row.api_key_id,
        currency=row.currency,
        message_id=message.id,
        correlation_id=row.correlation_id,
        reservation_key=row.reservation_key,
        marketplace_request_id=row.marketplace_request_id,
    )
    await Ledger(session, requests.scope).book(booking, now, ("marketplace_charge", lines))
    await settle(session, mailbox, row, lines, response_message_id=message.id, now=now)
