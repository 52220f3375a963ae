"""Typed request bodies: what the SDK may send, field by field.

Every JSON body is one of these models, dumped with only the fields the caller gave, so a
request can carry nothing the model does not name (`extra="forbid"`). The drift test
compares these fields with the server's OpenAPI request schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, StrictInt

from tidings._amounts import Amount
from tidings._models import Usage

__all__ = [
    "ApiKeyCreateBody",
    "AttachmentBody",
    "Body",
    "ForwardBody",
    "IdentityCreateBody",
    "IdentityUpdateBody",
    "MailboxUpdateBody",
    "MarketplaceRequestBody",
    "MarketplaceResponseBody",
    "MessageUpdateBody",
    "PricingBody",
    "QuotaBody",
    "ReplyBody",
    "SecretRotationBody",
    "SendBody",
    "UsageBody",
    "WebhookCreateBody",
    "WebhookUpdateBody",
    "usage_body",
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


class UsageBody(Body):
    """The work behind a send. Counts are strict ints, as the server wants them."""

    tokens_input: StrictInt | None = None
    tokens_output: StrictInt | None = None
    outcomes_returned: StrictInt | None = None
    compute_ms: StrictInt | None = None
    custom_units: dict[str, Amount] | None = None


def usage_body(usage: Usage | Mapping[str, Any] | None) -> UsageBody | None:
    """A `Usage` or a plain dict as the body field; a key it does not know is refused here."""
    if usage is None:
        return None
    if isinstance(usage, Mapping):
        return UsageBody.model_validate(dict(usage))
    # Zeros are what the server assumes for a unit left out, so only the rest is sent.
    return UsageBody.model_validate(usage.model_dump(exclude_defaults=True))


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
    usage: UsageBody | None = None


class SendBody(_Composed):
    to: list[str]
    subject: str
    in_reply_to: str | None = None


class MarketplaceRequestBody(SendBody):
    budget: Amount
    marketplace_request_id: str | None = None


class MarketplaceResponseBody(_Composed):
    marketplace_request_id: str


class ReplyBody(_Composed):
    to: list[str] | None = None


class ForwardBody(_Composed):
    to: list[str]


class MessageUpdateBody(Body):
    is_read: bool | None = None
    is_starred: bool | None = None
    labels: list[str] | None = None


class PricingBody(Body):
    """A whole plan: it replaces the one before, and a price left out is not charged for."""

    tokens_input_per_1k: Amount | None = None
    tokens_output_per_1k: Amount | None = None
    per_outcome: Amount | None = None
    compute_per_second: Amount | None = None
    custom_units: dict[str, Amount] | None = None


class QuotaBody(Body):
    """All four limits: they replace the ones before, and one left out is no limit."""

    sends_per_minute: StrictInt | None = None
    sends_per_day: StrictInt | None = None
    recipients_per_day: StrictInt | None = None
    spend_per_day: Amount | None = None


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
