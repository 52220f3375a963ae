"""Typed shapes of what the server answers. New fields from a newer server are kept, not refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from tidings._amounts import Amount

__all__ = [
    "Address",
    "ApiKey",
    "ApiKeyCreated",
    "Attachment",
    "Deleted",
    "EventType",
    "Identity",
    "Mailbox",
    "Message",
    "MessageSummary",
    "NotModified",
    "RateLimitInfo",
    "SearchHit",
    "SessionFeatures",
    "SessionInfo",
    "SessionKey",
    "SessionLimits",
    "SessionOrganisation",
    "Thread",
    "ThreadSummary",
    "Usage",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSecret",
    "WebhookWithSecret",
]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    # Not a field: it is about the answer this object came from, not part of its data.
    _etag: str | None = PrivateAttr(default=None)

    @property
    def etag(self) -> str | None:
        """The `ETag` of the GET that fetched this object (None otherwise): pass it as
        `if_match=` to change it only if nobody else has, or `if_none_match=` to re-fetch
        it only if it changed."""
        return self._etag

    def __eq__(self, other: object) -> bool:
        # Equal data is equal: the ETag and a client binding (see BoundIdentity) are not data.
        if not isinstance(other, BaseModel):
            return NotImplemented
        return self.model_dump() == other.model_dump()


@dataclass(frozen=True)
class NotModified:
    """The answer to a GET made with `if_none_match=`: what you hold is still current."""

    etag: str | None


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


class Usage(Model):
    """The work behind a send, priced on the sender's plan: what you report with `usage=`
    (this model or a plain dict with the same keys) and what a message shows it carried.

    Counts are integers; `custom_units` maps your own unit names to exact quantities
    (`{"pages": "3.5"}`; Decimal, str or int, never float).
    """

    tokens_input: int = 0
    tokens_output: int = 0
    outcomes_returned: int = 0
    compute_ms: int = 0
    custom_units: dict[str, Amount] = {}


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
    thread_match: str | None = Field(
        default=None, description="How the message was put in its thread (which header matched)."
    )
    correlation_id: str | None = Field(
        default=None, description="Your reference given at send; delivery events carry it."
    )
    idempotency_key: str | None = Field(
        default=None, description="The idempotency key of the send that made it, if any."
    )
    reservation_key: str | None = Field(
        default=None,
        description="rsv_...: tags the send's ledger entries; for a marketplace request, "
        "the budget hold.",
    )
    marketplace_request_id: str | None = None
    usage: Usage | None = Field(
        default=None, description="The usage the send reported (or the received mail carried)."
    )
    sent_at: datetime | None = None
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


class ThreadSummary(Model):
    """A conversation as lists show it."""

    id: str
    mailbox: str
    subject: str
    participants: list[str] = []
    message_count: int
    last_message_at: datetime
    created_at: datetime


class Thread(ThreadSummary):
    """A conversation with its messages, oldest first."""

    messages: list[Message] = []


class SessionOrganisation(Model):
    id: str
    name: str


class SessionKey(Model):
    id: str
    kind: Literal["root", "agent"] | str
    name: str
    prefix: str


class RateLimitInfo(Model):
    requests: int
    window_seconds: int


class SessionLimits(Model):
    rate_limit: RateLimitInfo
    max_body_bytes: int
    page_size_max: int


class SessionFeatures(Model):
    domain: str
    outbound: str
    smtp_inbound: bool = False
    webhooks: bool = False
    events: bool = False
    usage: bool = False
    marketplace: bool = False
    currency: str | None = Field(default=None, description="Of every price and ledger entry.")


class SessionInfo(Model):
    """Who the key is and what it may do: `td.whoami()`."""

    organisation: SessionOrganisation
    key: SessionKey
    identity: Identity | None = None
    scopes: list[str] = []
    limits: SessionLimits
    features: SessionFeatures


class EventType(Model):
    """One entry of the event catalogue: a type subscriptions and filters may name."""

    type: str
    description: str


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
