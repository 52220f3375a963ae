"""Putting a received message into a mailbox: blobs first (durable), then rows in one transaction.

Used by the SMTP listener for mail from outside and by delivery for mail between hosted
mailboxes, so both paths thread, store and announce (`message.received`) a message alike.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.blobs import BlobStore
from tidings_server.events import append_event
from tidings_server.events.payloads import message_data
from tidings_server.mail import tracking
from tidings_server.mail.filing import Filing, file_message
from tidings_server.mime import ParsedMessage, parse_message
from tidings_server.store.models import Mailbox, Message
from tidings_server.usage.headers import MarketplaceTerms, parse_usage, report_of
from tidings_server.usage.receipts import book_receipt


@dataclass(frozen=True)
class Received:
    """A parsed message whose raw bytes and attachments are already durable blobs."""

    parsed: ParsedMessage
    raw_key: str
    attachment_keys: tuple[str, ...]


async def receive_bytes(raw: bytes, blobs: BlobStore) -> Received:
    """Parse off the event loop, then write every blob durably; no row refers to them yet."""
    parsed = await asyncio.to_thread(parse_message, raw)
    raw_key = await blobs.put(raw)
    keys = [await blobs.put(part.content) for part in parsed.attachments]
    return Received(parsed=parsed, raw_key=raw_key, attachment_keys=tuple(keys))


async def add_to_mailbox(
    session: AsyncSession,
    mailbox: Mailbox,
    received: Received,
    *,
    envelope_from: str | None,
    currency: str,
    now: datetime,
) -> Message:
    """Store one received copy in `mailbox`, threaded, with its `message.received` event,
    its receipt in the usage ledger, and what its marketplace terms open or settle."""
    parsed = received.parsed
    correlation_id, idempotency_key = tracking.received(parsed.headers)
    terms = MarketplaceTerms.read(parsed.headers)
    usage = report_of(parse_usage(parsed.headers))
    everyone = [*parsed.from_, *parsed.to, *parsed.cc, *parsed.reply_to]
    filing = Filing(
        direction="inbound",
        status="received",
        raw_key=received.raw_key,
        attachment_keys=received.attachment_keys,
        size=parsed.size,
        envelope_from=envelope_from,
        participants={a.address.lower() for a in everyone} - {mailbox.address},
        correlation_id=correlation_id,
        idempotency_key=idempotency_key,
        marketplace_request_id=terms.request_id if terms else None,
        usage=usage.to_json() if usage else None,
    )
    filed = await file_message(session, mailbox, parsed, filing, now)
    message = filed.message
    await append_event(
        session,
        org_id=mailbox.org_id,
        identity_id=mailbox.identity_id,
        mailbox_id=mailbox.id,
        type_="message.received",
        data=await message_data(session, message, filed.thread),
        now=now,
    )
    await book_receipt(session, mailbox, message, terms, currency=currency, now=now)
    return message
