"""Filing a message into a mailbox: its thread, its row and attachments, its search entry.

Receiving and sending both file messages this way; they differ only in direction, status
and what follows (an event, or delivery jobs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.mail.threads import ThreadResolver
from tidings_server.mime import Address, ParsedAttachment, ParsedMessage
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import Attachment, Mailbox, Message, Thread
from tidings_server.store.repositories.search import SearchDocument, SearchIndex
from tidings_server.store.scope import Scope


def address_json(addresses: Sequence[Address]) -> list[dict[str, str]]:
    return [{"name": a.name or "", "address": a.address} for a in addresses]


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


@dataclass(frozen=True)
class Filing:
    """How the message came to this mailbox."""

    direction: str  # inbound | outbound
    status: str  # received | queued
    raw_key: str
    attachment_keys: Sequence[str]
    size: int
    envelope_from: str | None
    participants: set[str]  # the other parties, for threading by subject
    bcc: Sequence[str] = ()
    idempotency_key: str | None = None
    correlation_id: str | None = None
    api_key_id: str | None = None
    reservation_key: str | None = None
    marketplace_request_id: str | None = None
    usage: dict[str, Any] | None = None
    is_read: bool = False


@dataclass(frozen=True)
class Filed:
    message: Message
    thread: Thread  # held here so the session's (weak) identity map keeps it for the event


async def file_message(
    session: AsyncSession, mailbox: Mailbox, parsed: ParsedMessage, filing: Filing, now: datetime
) -> Filed:
    scope = Scope(org_id=mailbox.org_id, identity_id=mailbox.identity_id)
    placement = await ThreadResolver(session, scope).place(
        mailbox,
        subject=parsed.subject,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
        participants=filing.participants,
        now=now,
    )
    message = Message(
        id=ids.new_id("msg"),
        org_id=mailbox.org_id,
        identity_id=mailbox.identity_id,
        mailbox_id=mailbox.id,
        thread_id=placement.thread.id,
        thread_match=placement.match,
        direction=filing.direction,
        status=filing.status,
        rfc_message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
        to=address_json(parsed.to),
        cc=address_json(parsed.cc),
        bcc=[{"name": "", "address": a} for a in filing.bcc],
        reply_to=address_json(parsed.reply_to),
        envelope_from=filing.envelope_from,
        idempotency_key=filing.idempotency_key,
        correlation_id=filing.correlation_id,
        api_key_id=filing.api_key_id,
        reservation_key=filing.reservation_key,
        marketplace_request_id=filing.marketplace_request_id,
        usage=filing.usage,
        subject=parsed.subject,
        preview=parsed.preview,
        body_text=parsed.body_text,
        body_html=parsed.body_html,
        extracted_text=parsed.extracted_text,
        headers=[[name, value] for name, value in parsed.headers],
        is_read=filing.is_read,
        is_starred=False,
        parse_warnings=list(parsed.parse_warnings),
        size=filing.size,
        raw_blob=filing.raw_key,
        sent_at=parsed.date,
        created_at=now,
        updated_at=now,
    )
    message.set_from(address_json(parsed.from_))
    message.set_labels([])
    message.attachments = attachment_rows(message, parsed.attachments, filing.attachment_keys)
    await insert_rows(session, [message], message.attachments)
    await SearchIndex(session).add(message, search_document(message))
    if placement.match != "new":
        ThreadResolver.record(placement.thread, filing.participants, now)
    return Filed(message, placement.thread)
