"""Typed shapes of what the server answers. New fields from a newer server are kept, not refused."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Address",
    "ApiKey",
    "ApiKeyCreated",
    "Attachment",
    "Deleted",
    "Identity",
    "Mailbox",
    "Message",
    "MessageSummary",
    "SearchHit",
    "SessionInfo",
    "Thread",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSecret",
    "WebhookWithSecret",
]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Identity(Model):
    id: str
    handle: str
    display_name: str | None = None
    description: str | None = None
    status: Literal["active", "paused"] | str
    email_address: str
    mailbox_id: str
    created_at: datetime
    updated_at: datetime


class Mailbox(Model):
    id: str
    address: str
    identity_id: str
    display_name: str | None = None
    created_at: datetime
    updated_at: datetime


class ApiKey(Model):
    id: str
    name: str
    kind: Literal["root", "agent"] | str
    identity_id: str | None = None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    key: str | None = Field(default=None, description="The secret; shown only at creation.")


class Address(Model):
    name: str = ""
    address: str


class Attachment(Model):
    id: str
    filename: str | None = None
    content_type: str
    size: int
    content_id: str | None = None
    inline: bool = False


class MessageSummary(Model):
    id: str
    mailbox: str
    thread_id: str
    direction: Literal["inbound", "outbound"] | str
    status: str
    rfc_message_id: str | None = None
    from_: Address | None = Field(default=None, alias="from")
    to: list[Address] = []
    cc: list[Address] = []
    subject: str = ""
    preview: str = ""
    labels: list[str] = []
    is_read: bool = False
    is_starred: bool = False
    attachments: list[Attachment] = []
    size: int = 0
    correlation_id: str | None = Field(
        default=None, description="Your reference given at send; delivery events carry it."
    )
    created_at: datetime


class Message(MessageSummary):
    in_reply_to: str | None = None
    references: list[str] = []
    bcc: list[Address] = []
    reply_to: list[Address] = []
    body_text: str | None = None
    body_html: str | None = None
    extracted_text: str | None = None
    headers: list[tuple[str, str]] = []
    parse_warnings: list[str] = []


class SearchHit(MessageSummary):
    rank: float
    snippet: str


class Thread(Model):
    id: str
    mailbox: str
    subject: str
    participants: list[str] = []
    message_count: int
    last_message_at: datetime
    created_at: datetime
    messages: list[Message] = []


class SessionInfo(Model):
    organisation: dict[str, str]
    key: dict[str, str]
    identity: Identity | None = None
    scopes: list[str] = []
    limits: dict[str, object] = {}
    features: dict[str, object] = {}


class Deleted(Model):
    id: str
    deleted: bool = True


class Webhook(Model):
    """A subscription: which events go to which URL. Custom header values are write-only."""

    id: str
    url: str
    event_types: list[str]
    owner: Literal["organisation", "identity", "mailbox"] | str
    identity_id: str | None = None
    mailbox_id: str | None = None
    header_names: list[str] = []
    description: str = ""
    enabled: bool
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    previous_secret_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(Webhook):
    secret: str | None = Field(
        default=None,
        description="The signing secret (whsec_...), shown at creation; None when the answer "
        "is an idempotent replay (read it with get_secret).",
    )


class WebhookSecret(Model):
    # None only in an idempotent replay of a rotation: the secret is shown once.
    secret: str | None = None
    previous_secret_expires_at: datetime | None = None


class WebhookAttempt(Model):
    """One try at delivering: what the receiver answered (or the error), and how fast."""

    attempted_at: datetime
    status_code: int | None = None
    latency_ms: int = 0
    response_excerpt: str = ""
    error: str | None = None


class WebhookDelivery(Model):
    """One event on its way to one webhook, with every attempt so far."""

    id: str
    webhook_id: str
    event_id: str
    status: Literal["pending", "succeeded", "failed", "cancelled"] | str
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    replay_of: str | None = None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    attempts: list[WebhookAttempt] = []
