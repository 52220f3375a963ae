"""Putting a received message into a mailbox: blobs first (durable), then rows in one transaction.

Used by the SMTP listener for mail from outside and by delivery for mail between hosted
mailboxes, so both paths thread, store and announce (`message.received`) a message alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.blobs import BlobStore
from tidings_server.events import append_event
from tidings_server.mail.threads import ThreadResolver
from tidings_server.mime import Address, ParsedAttachment, ParsedMessage, parse_message
from tidings_server.store.models import Attachment, Mailbox, Message
from tidings_server.store.repositories.search import SearchDocument, SearchIndex
from tidings_server.store.scope import Scope


@dataclass(frozen=True)
class Received:
    """A parsed message whose raw bytes and attachments are already durable blobs."""

    parsed: ParsedMessage
    raw_key: str
    attachment_keys: tuple[str, ...]


def address_json(addresses: list[Address] | tuple[Address, ...]) -> list[dict[str, str]]:
    return [{"name": a.name or "", "address": a.address} for a in addresses]


async def receive_bytes(raw: bytes, blobs: BlobStore) -> Received:
    """Parse off the event loop, then write every blob durably; no row refers to them yet."""
    parsed = await asyncio.to_thread(parse_message, raw)
    raw_key = await blobs.put(raw)
    keys = [await blobs.put(part.content) for part in parsed.attachments]
    return Received(parsed=parsed, raw_key=raw_key, attachment_keys=tuple(keys))


def message_summary(message: Message) -> dict[str, Any]:
    """What events say about a message (issue 5 widens this to the full webhook payload)."""
    return {
        "id": message.id,
        "mailbox_id": message.mailbox_id,
        "thread_id": message.thread_id,
        "direction": message.direction,
        "status": message.status,
        "rfc_message_id": message.rfc_message_id,
        "from": message.from_[0] if message.from_ else None,
        "to": message.to,
        "subject": message.subject,
        "preview": message.preview,
    }


def attachment_rows(
    message: Message, parts: Sequence[ParsedAttachment], keys: Sequence[str]
) -> list[Attachment]:
    return [
        Attachment(
            id=ids.new_id("att"),
            org_id=message.org_id,
            identity_id=message.identity_id,
            message_id=message.id,
            filename=part.filename,
            content_type=part.content_type,
            size=part.size,
            content_id=part.content_id,
            inline=part.inline,
            blob=key,
        )
        for part, key in zip(parts, keys, strict=True)
    ]


def search_document(message: Message) -> SearchDocument:
    people = [*message.from_, *message.to, *message.cc, *message.reply_to]
    return SearchDocument(
        subject=message.subject,
        addresses=" ".join(f"{p.get('name', '')} {p.get('address', '')}" for p in people),
        body=message.body_text or "",
        attachment_names=" ".join(a.filename or "" for a in message.attachments),
    )


async def add_to_mailbox(
    session: AsyncSession,
    mailbox: Mailbox,
    received: Received,
    *,
    envelope_from: str | None,
    now: datetime,
) -> Message:
    """Store one received copy in `mailbox`, threaded, with its `message.received` event."""
    parsed = received.parsed
    scope = Scope(org_id=mailbox.org_id, identity_id=mailbox.identity_id)
    everyone = [*parsed.from_, *parsed.to, *parsed.cc, *parsed.reply_to]
    participants = {a.address.lower() for a in everyone} - {mailbox.address}
    resolver = ThreadResolver(session, scope)
    placement = await resolver.place(
        mailbox,
        subject=parsed.subject,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
        participants=participants,
        now=now,
    )
    message = Message(
        id=ids.new_id("msg"),
        org_id=mailbox.org_id,
        identity_id=mailbox.identity_id,
        mailbox_id=mailbox.id,
        thread_id=placement.thread.id,
        thread_match=placement.match,
        direction="inbound",
        status="received",
        rfc_message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
        from_=address_json(parsed.from_),
        to=address_json(parsed.to),
        cc=address_json(parsed.cc),
        bcc=[],
        reply_to=address_json(parsed.reply_to),
        envelope_from=envelope_from,
        subject=parsed.subject,
        preview=parsed.preview,
        body_text=parsed.body_text,
        body_html=parsed.body_html,
        extracted_text=parsed.extracted_text,
        headers=[[name, value] for name, value in parsed.headers],
        labels=[],
        is_read=False,
        is_starred=False,
        parse_warnings=list(parsed.parse_warnings),
        size=parsed.size,
        raw_blob=received.raw_key,
        sent_at=parsed.date,
        created_at=now,
        updated_at=now,
    )
    message.set_from(address_json(parsed.from_))
    message.set_labels([])
    message.attachments = attachment_rows(message, parsed.attachments, received.attachment_keys)
    session.add(message)
    await session.flush()
    await SearchIndex(session).add(message, search_document(message))
    ThreadResolver.record(placement.thread, participants, now)
    append_event(
        session,
        org_id=mailbox.org_id,
        identity_id=mailbox.identity_id,
        mailbox_id=mailbox.id,
        type_="message.received",
        data={"message": message_summary(message)},
        now=now,
    )
    await session.flush()
    return message
