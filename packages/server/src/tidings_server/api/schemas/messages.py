"""Messages, attachments and threads as the API shows them. Lists omit bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from tidings_server.api.schemas.common import HeaderText, PatchModel, RequestModel, not_null
from tidings_server.api.schemas.usage import UsageIn, UsageView
from tidings_server.store.models import Attachment, Mailbox, Message, Thread
from tidings_server.store.repositories.summaries import AttachmentSummary, MessageSummaryRow

Label = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\"]+$")]


class AddressView(BaseModel):
    name: str
    address: str


class AttachmentView(BaseModel):
    id: str
    filename: str | None
    content_type: str
    size: int
    content_id: str | None
    inline: bool


# Views are built from plain dicts and validated once, in pydantic's core: constructing each
# nested model in Python first was a large part of listing fifty messages.
def _addresses(values: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"name": v.get("name", ""), "address": v.get("address", "")} for v in values]


def _attachment(attachment: Attachment | AttachmentSummary) -> dict[str, object]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "content_id": attachment.content_id,
        "inline": attachment.inline,
    }


class MessageSummary(BaseModel):
    id: str
    mailbox: str
    thread_id: str
    thread_match: str
    direction: Literal["inbound", "outbound"]
    status: str
    rfc_message_id: str | None
    from_: AddressView | None = Field(alias="from", serialization_alias="from")
    to: list[AddressView]
    cc: list[AddressView]
    subject: str
    preview: str
    labels: list[str]
    is_read: bool
    is_starred: bool
    attachments: list[AttachmentView]
    size: int
    correlation_id: str | None
    idempotency_key: str | None
    reservation_key: str | None = Field(
        description="Tags the send's usage entries; for a marketplace request, its budget hold."
    )
    marketplace_request_id: str | None
    usage: UsageView | None
    sent_at: datetime | None
    created_at: datetime

    model_config = {"populate_by_name": True}

    @classmethod
    def _fields(cls, message: Message | MessageSummaryRow, mailbox: str) -> dict[str, object]:
        """The fields for `message` in the mailbox at the address `mailbox`."""
        senders = _addresses(message.from_)
        return {
            "id": message.id,
            "mailbox": mailbox,
            "thread_id": message.thread_id,
            "thread_match": message.thread_match,
            "direction": message.direction,
            "status": message.status,
            "rfc_message_id": message.rfc_message_id,
            "from_": senders[0] if senders else None,
            "to": _addresses(message.to),
            "cc": _addresses(message.cc),
            "subject": message.subject,
            "preview": message.preview,
            "labels": message.labels,
            "is_read": message.is_read,
            "is_starred": message.is_starred,
            "attachments": [_attachment(a) for a in message.attachments],
            "size": message.size,
            "correlation_id": message.correlation_id,
            "idempotency_key": message.idempotency_key,
            "reservation_key": message.reservation_key,
            "marketplace_request_id": message.marketplace_request_id,
            "usage": message.usage,
            "sent_at": message.sent_at,
            "created_at": message.created_at,
        }

    @classmethod
    def of(cls, message: MessageSummaryRow, mailbox: str) -> MessageSummary:
        return cls.model_validate(cls._fields(message, mailbox))


class MessageView(MessageSummary):
    in_reply_to: str | None
    references: list[str]
    bcc: list[AddressView]
    reply_to: list[AddressView]
    body_text: str | None
    body_html: str | None
    extracted_text: str | None
    headers: list[tuple[str, str]]
    parse_warnings: list[str]

    @classmethod
    def full(cls, message: Message, mailbox: Mailbox) -> MessageView:
        fields = cls._fields(message, mailbox.address)
        fields.update(
            in_reply_to=message.in_reply_to,
            references=message.references,
            bcc=_addresses(message.bcc),
            reply_to=_addresses(message.reply_to),
            body_text=message.body_text,
            body_html=message.body_html,
            extracted_text=message.extracted_text,
            headers=[(name, value) for name, value in message.headers],
            parse_warnings=message.parse_warnings,
        )
        return cls.model_validate(fields)


class MessageUpdate(PatchModel):
    is_read: bool | None = None
    is_starred: bool | None = None
    labels: list[Label] | None = Field(default=None, max_length=100)

    _flags_not_null = not_null("is_read", "is_starred", "labels")


class ThreadView(BaseModel):
    id: str
    mailbox: str
    subject: str
    participants: list[str]
    message_count: int
    last_message_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, thread: Thread, mailbox: Mailbox) -> ThreadView:
        return cls(
            id=thread.id,
            mailbox=mailbox.address,
            subject=thread.subject,
            participants=thread.participants,
            message_count=thread.message_count,
            last_message_at=thread.last_message_at,
            created_at=thread.created_at,
        )


class ThreadWithMessages(ThreadView):
    messages: list[MessageView]


class SearchHit(MessageSummary):
    rank: float
    snippet: str

    @classmethod
    def of_hit(
        cls, message: MessageSummaryRow, mailbox: str, rank: float, snippet: str
    ) -> SearchHit:
        return cls.model_validate(
            {**cls._fields(message, mailbox), "rank": rank, "snippet": snippet}
        )


class AttachmentIn(RequestModel):
    filename: HeaderText = Field(min_length=1)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    content_base64: str
    content_id: str | None = Field(
        default=None, max_length=250, description="Set for inline parts referred to as cid:..."
    )


class ComposedRequest(RequestModel):
    """What every way of sending shares."""

    cc: list[str] = Field(default_factory=list, max_length=100)
    bcc: list[str] = Field(default_factory=list, max_length=100)
    body_text: str | None = None
    body_html: str | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=100)
    headers: dict[str, str] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    correlation_id: HeaderText | None = Field(
        default=None,
        description="Your own reference for this send (a job or ticket id); events about "
        "the message's delivery carry it back.",
    )
    usage: UsageIn | None = Field(
        default=None, description="The work behind this send, priced on the sender's plan."
    )


class SendRequest(ComposedRequest):
    to: list[str] = Field(default_factory=list, max_length=100)
    subject: str = Field(max_length=998)
    in_reply_to: str | None = Field(
        default=None, description="A message id (msg_...) in this mailbox, or an RFC Message-ID."
    )


class ReplyRequest(ComposedRequest):
    """Recipients, subject and threading come from the message replied to; `to` adds more."""

    to: list[str] = Field(default_factory=list, max_length=100)


class ForwardRequest(ComposedRequest):
    to: list[str] = Field(min_length=1, max_length=100)
