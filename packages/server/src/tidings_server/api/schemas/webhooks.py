"""Webhook subscriptions and their deliveries as the API shows them.

Custom header values are write-only (only their names come back), and the signing secret
appears only when it is made: in the create and rotate answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from tidings_server.api.schemas.common import PatchModel, RequestModel, View, not_null
from tidings_server.store.models import Webhook, WebhookAttempt, WebhookDelivery


class WebhookCreate(RequestModel):
    url: str = Field(max_length=2048, description="http(s) URL the events are POSTed to.")
    event_types: list[str] = Field(
        max_length=50, description="Event types to receive; see GET /v1/events for the catalogue."
    )
    identity: str | None = Field(
        default=None, description="Only this identity's events (id or handle)."
    )
    mailbox: str | None = Field(default=None, description="Only this mailbox's events.")
    headers: dict[str, str] = Field(
        default_factory=dict, max_length=20, description="Sent with every delivery; write-only."
    )
    description: str = Field(default="", max_length=500)
    enabled: bool = True

    @model_validator(mode="after")
    def _one_owner(self) -> WebhookCreate:
        if self.identity is not None and self.mailbox is not None:
            raise ValueError("name either `identity` or `mailbox`, not both")
        return self


class WebhookUpdate(PatchModel):
    url: str | None = Field(default=None, max_length=2048)
    event_types: list[str] | None = Field(default=None, max_length=50)
    headers: dict[str, str] | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None

    _not_null = not_null("url", "event_types", "headers", "description", "enabled")


class SecretRotation(RequestModel):
    grace_period_seconds: int | None = Field(
        default=None,
        ge=0,
        le=7 * 24 * 3600,
        description="How long the old secret keeps signing too (default: a day).",
    )


class WebhookView(View):
    id: str
    url: str
    event_types: list[str]
    owner: Literal["organisation", "identity", "mailbox"]
    identity_id: str | None
    mailbox_id: str | None
    header_names: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookView:
        return cls.model_validate(cls._fields(webhook))

    @staticmethod
    def _fields(webhook: Webhook) -> dict[str, object]:
        owner = "mailbox" if webhook.mailbox_id else "identity" if webhook.identity_id else None
        return {
            "id": webhook.id,
            "url": webhook.url,
            "event_types": webhook.event_types,
            "owner": owner or "organisation",
            "identity_id": webhook.identity_id,
            "mailbox_id": webhook.mailbox_id,
            "header_names": sorted(webhook.headers),
            "description": webhook.description,
            "enabled": webhook.enabled,
            "disabled_reason": webhook.disabled_reason,
            "failing_since": webhook.failing_since,
            "previous_secret_expires_at": webhook.previous_secret_expires_at,
            "created_at": webhook.created_at,
            "updated_at": webhook.updated_at,
        }


class WebhookWithSecret(WebhookView):
    secret: str | None = Field(
        description="The signing secret (whsec_...). Shown only here (null in an idempotent "
        "replay); GET /v1/webhooks/subscriptions/{id}/secret reads it again."
    )

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookWithSecret:
        return cls.model_validate({**cls._fields(webhook), "secret": webhook.secret})


class WebhookSecret(View):
    secret: str
    previous_secret_expires_at: AwareDatetime | None


class AttemptView(View):
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str
    error: str | None

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptView:
        return cls.model_validate(attempt)


class DeliveryView(View):
    id: str
    webhook_id: str
    event_id: str
    status: Literal["pending", "succeeded", "failed", "cancelled"]
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    replay_of: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    attempts: list[AttemptView]

    @classmethod
    def of(cls, delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryView:
        return cls(
            id=delivery.id,
            webhook_id=delivery.webhook_id,
            event_id=delivery.event_id,
            status=delivery.status,
            next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            replay_of=delivery.replay_of,
            created_at=delivery.created_at,
            updated_at=delivery.updated_at,
            completed_at=delivery.completed_at,
            attempts=[AttemptView.of(a) for a in attempts],
        )
