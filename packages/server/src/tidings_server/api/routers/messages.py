"""/v1/mailboxes/{address}/messages: list with filters, get, raw, attachments, flags, delete."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from tidings_server.api.conditional import check_if_match
from tidings_server.api.deps import Readers, RequestIdempotencyKey, RuntimeDep, Senders
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.route import BODY_IDEMPOTENCY_KEY
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.deleted import Deleted
from tidings_server.api.schemas.messages import (
    AttachmentIn,
    ComposedRequest,
    ForwardRequest,
    MessageSummary,
    MessageUpdate,
    MessageView,
    ReplyRequest,
    SearchHit,
    SendRequest,
)
from tidings_server.api.streaming import stream_blob
from tidings_server.errors import ValidationFailed
from tidings_server.mail.sending import Outgoing
from tidings_server.mime import OutgoingAttachment
from tidings_server.store.models import Message
from tidings_server.store.repositories.summaries import MessageFilter

router = v1_router("/mailboxes/{address}/messages", "messages")
search_router = v1_router("/mailboxes/{address}/search", "messages")


@search_router.get("")
async def search_messages(
    address: str,
    readers: Readers,
    paging: Paging,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words to find.")],
) -> ListResponse[SearchHit]:
    """Full-text search over subject, addresses, body and attachment names, best first.

    Every term must match, as a word prefix (a one-character term as a whole word). Only the
    newest matching messages are ranked: 1,000 unless the server's `search_window` says
    otherwise. To reach older ones, add terms."""
    mailbox = await readers.mailbox(address)
    found = await readers.search(mailbox, q, limit=paging.limit + 1, offset=paging.offset)
    hits = [
        SearchHit.of_hit(m, mailbox.address, hit.rank, hit.snippet)
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
    before: AwareDatetime | None = None,
    after: AwareDatetime | None = None,
) -> ListResponse[MessageSummary]:
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
    at, page = await readers.list_messages(address, filters, paging.request)
    return paging.respond(page, lambda message: MessageSummary.of(message, at))


# Fields win over the mail header, which is the fallback (see mail.tracking).
SEND_EXTRA = {BODY_IDEMPOTENCY_KEY: ["idempotency_key", "headers.X-Tidings-Idempotency-Key"]}


@router.post(
    "",
    status_code=202,
    openapi_extra=SEND_EXTRA,
    description="Queue a message for delivery; answers 202 with status `queued`. "
    "`idempotency_key` in the body works like the Idempotency-Key header.",
)
async def send_message(
    address: str,
    body: SendRequest,
    senders: Senders,
    readers: Readers,
    response: Response,
    key: RequestIdempotencyKey,
) -> MessageView:
    outgoing = outgoing_of(
        body, key, to=body.to, subject=body.subject, in_reply_to=body.in_reply_to
    )
    return await queued(address, await senders.send(address, outgoing), readers, response)


@router.post("/{message_id}/reply", status_code=202, openapi_extra=SEND_EXTRA)
async def reply_to_message(
    address: str,
    message_id: str,
    body: ReplyRequest,
    senders: Senders,
    readers: Readers,
    response: Response,
    key: RequestIdempotencyKey,
) -> MessageView:
    """Reply to the sender (Reply-To if set) with `Re:`, In-Reply-To and References."""
    outgoing = outgoing_of(body, key, to=body.to)
    message = await senders.reply(address, message_id, outgoing, to_all=False)
    return await queued(address, message, readers, response)


@router.post("/{message_id}/reply-all", status_code=202, openapi_extra=SEND_EXTRA)
async def reply_all_to_message(
    address: str,
    message_id: str,
    body: ReplyRequest,
    senders: Senders,
    readers: Readers,
    response: Response,
    key: RequestIdempotencyKey,
) -> MessageView:
    """Reply to the sender and every other recipient (in Cc), leaving out this mailbox."""
    outgoing = outgoing_of(body, key, to=body.to)
    message = await senders.reply(address, message_id, outgoing, to_all=True)
    return await queued(address, message, readers, response)


@router.post("/{message_id}/forward", status_code=202, openapi_extra=SEND_EXTRA)
async def forward_message(
    address: str,
    message_id: str,
    body: ForwardRequest,
    senders: Senders,
    readers: Readers,
    response: Response,
    key: RequestIdempotencyKey,
) -> MessageView:
    """Forward with `Fwd:`, the original quoted below `body_text`, and its attachments."""
    outgoing = outgoing_of(body, key, to=body.to)
    message = await senders.forward(address, message_id, outgoing)
    return await queued(address, message, readers, response)


def outgoing_of(body: ComposedRequest, key: str | None, **fields: Any) -> Outgoing:
    return Outgoing(
        cc=body.cc,
        bcc=body.bcc,
        body_text=body.body_text,
        body_html=body.body_html,
        attachments=[_decoded(i, a) for i, a in enumerate(body.attachments)],
        headers=body.headers,
        idempotency_key=key,
        correlation_id=body.correlation_id,
        usage=body.usage.report() if body.usage is not None else None,
        **{"subject": "", **fields},
    )


async def queued(
    address: str, message: Message, readers: Readers, response: Response
) -> MessageView:
    mailbox = await readers.mailbox(address)
    response.headers["Location"] = f"/v1/mailboxes/{mailbox.address}/messages/{message.id}"
    return MessageView.full(message, mailbox)


def _decoded(index: int, attachment: AttachmentIn) -> OutgoingAttachment:
    try:
        content = base64.b64decode(attachment.content_base64, validate=True)
    except binascii.Error:
        raise ValidationFailed(
            "The attachment content is not valid base64.",
            param=f"attachments[{index}].content_base64",
            fix="Encode the file with standard base64 (RFC 4648), without line breaks.",
        ) from None
    return OutgoingAttachment(
        filename=attachment.filename,
        content_type=attachment.content_type,
        content=content,
        content_id=attachment.content_id,
    )


@router.get("/{message_id}")
async def get_message(address: str, message_id: str, readers: Readers) -> MessageView:
    return MessageView.full(*await readers.message_at(address, message_id))


@router.get(
    "/{message_id}/raw",
    response_class=StreamingResponse,
    responses={200: {"content": {"message/rfc822": {}}, "description": "The message."}},
)
async def get_raw_message(
    address: str, message_id: str, readers: Readers, runtime: RuntimeDep
) -> StreamingResponse:
    """The message byte for byte as it was received (or sent), as `message/rfc822`."""
    message, _ = await readers.message_at(address, message_id)
    return stream_blob(
        runtime.blobs,
        message.raw_blob,
        media_type="message/rfc822",
        filename=f"{message.id}.eml",
        size=message.size,
    )


@router.get(
    "/{message_id}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/octet-stream": {}},
            "description": "Its bytes, served with the attachment's own Content-Type.",
        }
    },
)
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
    check_if_match(request, MessageView.full(await readers.message(mailbox, message_id), mailbox))
    message = await readers.update_flags(mailbox, message_id, body.changes())
    return MessageView.full(message, mailbox)


@router.delete("/{message_id}")
async def delete_message(
    address: str, message_id: str, readers: Readers, request: Request
) -> Deleted:
    mailbox = await readers.mailbox(address)
    check_if_match(request, MessageView.full(await readers.message(mailbox, message_id), mailbox))
    message = await readers.delete_message(mailbox, message_id)
    return Deleted(id=message.id)
