"""/v1/mailboxes/{address}/messages: list with filters, get, raw, attachments, flags, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from tidings_server.api.conditional import check_if_match
from tidings_server.api.deps import Readers, RuntimeDep
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.deleted import Deleted
from tidings_server.api.schemas.messages import (
    MessageSummary,
    MessageUpdate,
    MessageView,
    SearchHit,
)
from tidings_server.api.streaming import stream_blob
from tidings_server.mail.reading import MessageFilter

router = v1_router("/mailboxes/{address}/messages", "messages")
search_router = v1_router("/mailboxes/{address}/search", "messages")


@search_router.get("")
async def search_messages(
    address: str,
    readers: Readers,
    paging: Paging,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words to find.")],
) -> ListResponse[SearchHit]:
    """Full-text search over subject, addresses, body and attachment names, best first."""
    mailbox = await readers.mailbox(address)
    found = await readers.search(mailbox, q, limit=paging.limit + 1, offset=paging.offset)
    hits = [
        SearchHit(**MessageSummary.of(m, mailbox).model_dump(), rank=hit.rank, snippet=hit.snippet)
        for m, hit in found[: paging.limit]
    ]
    return paging.respond_ranked(hits, has_more=len(found) > paging.limit)


@router.get("")
async def list_messages(
    address: str,
    readers: Readers,
    paging: Paging,
    direction: Literal["inbound", "outbound"] | None = None,
    unread: bool | None = None,
    starred: bool | None = None,
    label: Annotated[list[str] | None, Query(description="Repeat for several labels.")] = None,
    thread_id: str | None = None,
    from_: Annotated[str | None, Query(alias="from", description="Sender address.")] = None,
    before: datetime | None = None,
    after: datetime | None = None,
) -> ListResponse[MessageSummary]:
    mailbox = await readers.mailbox(address)
    filters = MessageFilter(
        direction=direction,
        unread=unread,
        starred=starred,
        labels=tuple(label or ()),
        thread_id=thread_id,
        from_address=from_,
        before=before,
        after=after,
    )
    page = await readers.list_messages(mailbox, filters, paging.request)
    return paging.respond(page, lambda message: MessageSummary.of(message, mailbox))


@router.get("/{message_id}")
async def get_message(address: str, message_id: str, readers: Readers) -> MessageView:
    mailbox = await readers.mailbox(address)
    return MessageView.of(await readers.message(mailbox, message_id), mailbox)


@router.get("/{message_id}/raw", response_class=StreamingResponse)
async def get_raw_message(
    address: str, message_id: str, readers: Readers, runtime: RuntimeDep
) -> StreamingResponse:
    """The message byte for byte as it was received (or sent), as `message/rfc822`."""
    mailbox = await readers.mailbox(address)
    message = await readers.message(mailbox, message_id)
    return stream_blob(
        runtime.blobs,
        message.raw_blob,
        media_type="message/rfc822",
        filename=f"{message.id}.eml",
        size=message.size,
    )


@router.get("/{message_id}/attachments/{attachment_id}", response_class=StreamingResponse)
async def get_attachment(
    address: str, message_id: str, attachment_id: str, readers: Readers, runtime: RuntimeDep
) -> StreamingResponse:
    mailbox = await readers.mailbox(address)
    attachment = await readers.attachment(mailbox, message_id, attachment_id)
    return stream_blob(
        runtime.blobs,
        attachment.blob,
        media_type=attachment.content_type,
        filename=attachment.filename or attachment.id,
        size=attachment.size,
    )


@router.patch("/{message_id}")
async def update_message(
    address: str, message_id: str, body: MessageUpdate, readers: Readers, request: Request
) -> MessageView:
    mailbox = await readers.mailbox(address)
    check_if_match(request, MessageView.of(await readers.message(mailbox, message_id), mailbox))
    message = await readers.update_flags(mailbox, message_id, body.changes())
    return MessageView.of(message, mailbox)


@router.delete("/{message_id}")
async def delete_message(
    address: str, message_id: str, readers: Readers, request: Request
) -> Deleted:
    mailbox = await readers.mailbox(address)
    check_if_match(request, MessageView.of(await readers.message(mailbox, message_id), mailbox))
    message = await readers.delete_message(mailbox, message_id)
    return Deleted(id=message.id)
