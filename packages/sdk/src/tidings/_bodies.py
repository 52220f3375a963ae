"""Typed request bodies: what the SDK may send, field by field.

Every JSON body is one of these models, dumped with only the fields the caller gave, so a
request can carry nothing the model does not name (`extra="forbid"`). The drift test
compares these fields with the server's OpenAPI request schemas.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

__all__ = [
    "ApiKeyCreateBody",
    "AttachmentBody",
    "Body",
    "ForwardBody",
    "IdentityCreateBody",
    "IdentityUpdateBody",
    "MailboxUpdateBody",
    "MessageUpdateBody",
    "ReplyBody",
    "SecretRotationBody",
    "SendBody",
    "WebhookCreateBody",
    "WebhookUpdateBody",
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def given(cls, **fields: Any) -> Self:
        """The body holding only the fields that are not None (PATCH: None keeps a value)."""
        return cls(**{k: v for k, v in fields.items() if v is not None})

    def json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_unset=True, by_alias=True).encode()


class IdentityCreateBody(Body):
    handle: str
    display_name: str | None = None
    description: str | None = None


class IdentityUpdateBody(Body):
    display_name: str | None = None
    description: str | None = None
    status: Literal["active", "paused"] | None = None


class MailboxUpdateBody(Body):
    display_name: str | None = None


class AttachmentBody(Body):
    """One attachment as JSON. The SDK streams `content_base64` in (see `_attachments`)."""

    filename: str
    content_type: str
    content_base64: str
    content_id: str | None = None


class _Composed(Body):
    """What every way of sending shares."""

    cc: list[str] | None = None
    bcc: list[str] | None = None
    body_text: str | None = None
    body_html: str | None = None
    attachments: list[AttachmentBody] | None = None
    headers: dict[str, str] | None = None
    idempotency_key: str | None = None
    correlation_id: str | None = None


class SendBody(_Composed):
    to: list[str]
    subject: str
    in_reply_to: str | None = None


class ReplyBody(_Composed):
    to: list[str] | None = None


class ForwardBody(_Composed):
    to: list[str]


class MessageUpdateBody(Body):
    is_read: bool | None = None
    is_starred: bool | None = None
    labels: list[str] | None = None


class ApiKeyCreateBody(Body):
    name: str
    kind: Literal["root", "agent"]
    identity_id: str | None = None
    expires_at: datetime | None = None


class WebhookCreateBody(Body):
    url: str
    event_types: list[str]
    identity: str | None = None
    mailbox: str | None = None
    headers: dict[str, str] | None = None
    description: str | None = None
    enabled: bool | None = None


class WebhookUpdateBody(Body):
    url: str | None = None
    event_types: list[str] | None = None
    headers: dict[str, str] | None = None
    description: str | None = None
    enabled: bool | None = None


class SecretRotationBody(Body):
    grace_period_seconds: int | None = None
