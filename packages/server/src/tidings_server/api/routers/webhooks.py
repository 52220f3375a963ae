"""/v1/webhooks: subscriptions (their secrets and tests) and deliveries (attempts, replay)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Query, Request, Response

from tidings_server.api.conditional import check_if_match
from tidings_server.api.deps import Caller, Identities, Mailboxes, Webhooks
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.route import REDACT_ON_REPLAY
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.deleted import Deleted
from tidings_server.api.schemas.webhooks import (
    DeliveryView,
    SecretRotation,
    WebhookCreate,
    WebhookSecret,
    WebhookUpdate,
    WebhookView,
    WebhookWithSecret,
)
from tidings_server.webhooks.subscriptions import Owner

router = v1_router("/webhooks/subscriptions", "webhooks")
deliveries_router = v1_router("/webhooks/deliveries", "webhooks")


@router.post("", status_code=201, openapi_extra={REDACT_ON_REPLAY: ["secret"]})
async def create_webhook(
    body: WebhookCreate,
    webhooks: Webhooks,
    identities: Identities,
    mailboxes: Mailboxes,
    caller: Caller,
    response: Response,
) -> WebhookWithSecret:
    """Subscribe a URL to event types of the organisation, an identity or a mailbox."""
    identity = await identities.get(body.identity) if body.identity else None
    mailbox = await mailboxes.get(body.mailbox) if body.mailbox else None
    webhook = await webhooks.create(
        url=body.url,
        event_types=body.event_types,
        owner=Owner.of(caller, identity, mailbox),
        headers=body.headers,
        description=body.description,
        enabled=body.enabled,
    )
    response.headers["Location"] = f"/v1/webhooks/subscriptions/{webhook.id}"
    return WebhookWithSecret.of(webhook)


@router.get("")
async def list_webhooks(webhooks: Webhooks, paging: Paging) -> ListResponse[WebhookView]:
    return paging.respond(await webhooks.list(paging.request), WebhookView.of)


@deliveries_router.get("")
async def list_deliveries(
    webhooks: Webhooks,
    paging: Paging,
    webhook_id: Annotated[str | None, Query(max_length=64)] = None,
    event_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["pending", "succeeded", "failed", "cancelled"] | None = None,
) -> ListResponse[DeliveryView]:
    """Deliveries newest first, each with every attempt (status, latency, response excerpt)."""
    page, attempts = await webhooks.deliveries_page(
        paging.request, webhook_id=webhook_id, event_id=event_id, status=status
    )
    return paging.respond(page, lambda d: DeliveryView.of(d, attempts.get(d.id, [])))


@deliveries_router.get("/{delivery_id}")
async def get_delivery(delivery_id: str, webhooks: Webhooks) -> DeliveryView:
    record = await webhooks.delivery(delivery_id)
    return DeliveryView.of(record.delivery, record.attempts)


@deliveries_router.post("/{delivery_id}/replay", status_code=202)
async def replay_delivery(delivery_id: str, webhooks: Webhooks) -> DeliveryView:
    """Send the event again as a new delivery, with the same `webhook-id` as before."""
    return DeliveryView.of(await webhooks.replay(delivery_id), [])


@router.get("/{webhook_id}")
async def get_webhook(webhook_id: str, webhooks: Webhooks) -> WebhookView:
    return WebhookView.of(await webhooks.get(webhook_id))


@router.patch("/{webhook_id}")
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, webhooks: Webhooks, request: Request
) -> WebhookView:
    """Change any field; enabling again clears the failure state, disabling cancels what waits."""
    check_if_match(request, WebhookView.of(await webhooks.get(webhook_id)))
    return WebhookView.of(await webhooks.update(webhook_id, body.changes()))


@router.delete("/{webhook_id}")
async def delete_webhook(webhook_id: str, webhooks: Webhooks, request: Request) -> Deleted:
    check_if_match(request, WebhookView.of(await webhooks.get(webhook_id)))
    return Deleted(id=(await webhooks.delete(webhook_id)).id)


@router.get("/{webhook_id}/secret")
async def get_webhook_secret(webhook_id: str, webhooks: Webhooks) -> WebhookSecret:
    webhook = await webhooks.get(webhook_id)
    return WebhookSecret(
        secret=webhook.secret, previous_secret_expires_at=webhook.previous_secret_expires_at
    )


@router.post("/{webhook_id}/rotate-secret", openapi_extra={REDACT_ON_REPLAY: ["secret"]})
async def rotate_webhook_secret(
    webhook_id: str, webhooks: Webhooks, body: SecretRotation | None = None
) -> WebhookSecret:
    """A new secret; deliveries are signed with both until the grace period ends."""
    seconds = body.grace_period_seconds if body is not None else None
    grace = timedelta(seconds=seconds) if seconds is not None else None
    webhook = await webhooks.rotate_secret(webhook_id, grace)
    return WebhookSecret(
        secret=webhook.secret, previous_secret_expires_at=webhook.previous_secret_expires_at
    )


@router.post("/{webhook_id}/test", status_code=202)
async def test_webhook(webhook_id: str, webhooks: Webhooks) -> DeliveryView:
    """Send a `webhook.test` event to this subscription only; follow it in its delivery."""
    return DeliveryView.of(await webhooks.send_test(webhook_id), [])
