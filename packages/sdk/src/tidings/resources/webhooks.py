"""`td.webhooks`: subscriptions, their signing secrets and tests; `td.webhooks.deliveries`:
what was sent where, every attempt, and replaying one.

Verifying what a webhook receives is `tidings.verify_webhook`, which needs no client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from tidings._base_client import AsyncAPIClient, Request, SyncAPIClient
from tidings._models import Deleted, Webhook, WebhookDelivery, WebhookSecret, WebhookWithSecret
from tidings._pagination import AsyncPage, SyncPage
from tidings.resources._shared import AsyncResource, SyncResource, idempotent, page_params

DeliveryStatus = Literal["pending", "succeeded", "failed", "cancelled"]


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _if_match(etag: str | None) -> dict[str, str]:
    return {"If-Match": etag} if etag else {}


def _create(
    url: str,
    event_types: Sequence[str],
    *,
    identity: str | None,
    mailbox: str | None,
    headers: Mapping[str, str] | None,
    description: str | None,
    enabled: bool | None,
    idempotency_key: str | None,
) -> Request:
    body: dict[str, Any] = {"url": url, "event_types": list(event_types)}
    body |= _given(
        identity=identity, mailbox=mailbox, description=description, enabled=enabled,
        headers=dict(headers) if headers is not None else None,
    )  # fmt: skip
    return Request(
        "POST", "/v1/webhooks/subscriptions", json=body, headers=idempotent(idempotency_key)
    )


def _update(
    webhook_id: str,
    *,
    url: str | None,
    event_types: Sequence[str] | None,
    headers: Mapping[str, str] | None,
    description: str | None,
    enabled: bool | None,
    if_match: str | None,
) -> Request:
    # Only the fields given are sent: PATCH leaves the others as they are.
    changes = _given(
        url=url, description=description, enabled=enabled,
        event_types=list(event_types) if event_types is not None else None,
        headers=dict(headers) if headers is not None else None,
    )  # fmt: skip
    return Request("PATCH", _path(webhook_id), json=changes, headers=_if_match(if_match))


def _rotate(webhook_id: str, grace_period_seconds: int | None) -> Request:
    body = _given(grace_period_seconds=grace_period_seconds) or None
    return Request("POST", _path(webhook_id, "/rotate-secret"), json=body)


def _path(webhook_id: str, tail: str = "") -> str:
    return f"/v1/webhooks/subscriptions/{webhook_id}{tail}"


def _deliveries(
    webhook_id: str | None,
    event_id: str | None,
    status: DeliveryStatus | None,
    limit: int | None,
    cursor: str | None,
) -> Request:
    params = page_params(limit, cursor, webhook_id=webhook_id, event_id=event_id, status=status)
    return Request("GET", "/v1/webhooks/deliveries", params=params)


def _delivery(delivery_id: str, tail: str = "") -> str:
    return f"/v1/webhooks/deliveries/{delivery_id}{tail}"


class WebhookDeliveries(SyncResource):
    def list(
        self,
        *,
        webhook_id: str | None = None,
        event_id: str | None = None,
        status: DeliveryStatus | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> SyncPage[WebhookDelivery]:
        """Newest first, each with its attempts (status code, latency, response excerpt)."""
        request = _deliveries(webhook_id, event_id, status, limit, cursor)
        return self._page(request, WebhookDelivery)

    def get(self, delivery_id: str) -> WebhookDelivery:
        return self._one(Request("GET", _delivery(delivery_id)), WebhookDelivery)

    def replay(self, delivery_id: str) -> WebhookDelivery:
        """Send the event again as a new delivery, with the same `webhook-id` as before."""
        return self._one(Request("POST", _delivery(delivery_id, "/replay")), WebhookDelivery)


class Webhooks(SyncResource):
    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)
        self.deliveries = WebhookDeliveries(client)

    def create(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        identity: str | None = None,
        mailbox: str | None = None,
        headers: Mapping[str, str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookWithSecret:
        """Subscribe `url` to `event_types` of the organisation, or of one identity or mailbox.

        `.secret` (whsec_...) verifies what it receives; `headers` go with every delivery.
        """
        request = _create(
            url, event_types, identity=identity, mailbox=mailbox, headers=headers,
            description=description, enabled=enabled, idempotency_key=idempotency_key,
        )  # fmt: skip
        return self._one(request, WebhookWithSecret)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> SyncPage[Webhook]:
        return self._page(
            Request("GET", "/v1/webhooks/subscriptions", params=page_params(limit, cursor)), Webhook
        )

    def get(self, webhook_id: str) -> Webhook:
        return self._one(Request("GET", _path(webhook_id)), Webhook)

    def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        if_match: str | None = None,
    ) -> Webhook:
        """Change only the fields given. Enabling again clears the failure state."""
        request = _update(
            webhook_id, url=url, event_types=event_types, headers=headers,
            description=description, enabled=enabled, if_match=if_match,
        )  # fmt: skip
        return self._one(request, Webhook)

    def delete(self, webhook_id: str, *, if_match: str | None = None) -> Deleted:
        request = Request("DELETE", _path(webhook_id), headers=_if_match(if_match))
        return self._one(request, Deleted)

    def get_secret(self, webhook_id: str) -> WebhookSecret:
        return self._one(Request("GET", _path(webhook_id, "/secret")), WebhookSecret)

    def rotate_secret(
        self, webhook_id: str, *, grace_period_seconds: int | None = None
    ) -> WebhookSecret:
        """A new secret. Deliveries are signed with the old one too until the grace period
        (a day by default) ends, so receivers can switch without losing a request."""
        return self._one(_rotate(webhook_id, grace_period_seconds), WebhookSecret)

    def test(self, webhook_id: str) -> WebhookDelivery:
        """Send a `webhook.test` event to this webhook only; follow it in the delivery."""
        return self._one(Request("POST", _path(webhook_id, "/test")), WebhookDelivery)


class AsyncWebhookDeliveries(AsyncResource):
    async def list(
        self,
        *,
        webhook_id: str | None = None,
        event_id: str | None = None,
        status: DeliveryStatus | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPage[WebhookDelivery]:
        request = _deliveries(webhook_id, event_id, status, limit, cursor)
        return await self._page(request, WebhookDelivery)

    async def get(self, delivery_id: str) -> WebhookDelivery:
        return await self._one(Request("GET", _delivery(delivery_id)), WebhookDelivery)

    async def replay(self, delivery_id: str) -> WebhookDelivery:
        request = Request("POST", _delivery(delivery_id, "/replay"))
        return await self._one(request, WebhookDelivery)


class AsyncWebhooks(AsyncResource):
    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)
        self.deliveries = AsyncWebhookDeliveries(client)

    async def create(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        identity: str | None = None,
        mailbox: str | None = None,
        headers: Mapping[str, str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookWithSecret:
        request = _create(
            url, event_types, identity=identity, mailbox=mailbox, headers=headers,
            description=description, enabled=enabled, idempotency_key=idempotency_key,
        )  # fmt: skip
        return await self._one(request, WebhookWithSecret)

    async def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[Webhook]:
        request = Request("GET", "/v1/webhooks/subscriptions", params=page_params(limit, cursor))
        return await self._page(request, Webhook)

    async def get(self, webhook_id: str) -> Webhook:
        return await self._one(Request("GET", _path(webhook_id)), Webhook)

    async def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        if_match: str | None = None,
    ) -> Webhook:
        request = _update(
            webhook_id, url=url, event_types=event_types, headers=headers,
            description=description, enabled=enabled, if_match=if_match,
        )  # fmt: skip
        return await self._one(request, Webhook)

    async def delete(self, webhook_id: str, *, if_match: str | None = None) -> Deleted:
        request = Request("DELETE", _path(webhook_id), headers=_if_match(if_match))
        return await self._one(request, Deleted)

    async def get_secret(self, webhook_id: str) -> WebhookSecret:
        return await self._one(Request("GET", _path(webhook_id, "/secret")), WebhookSecret)

    async def rotate_secret(
        self, webhook_id: str, *, grace_period_seconds: int | None = None
    ) -> WebhookSecret:
        return await self._one(_rotate(webhook_id, grace_period_seconds), WebhookSecret)

    async def test(self, webhook_id: str) -> WebhookDelivery:
        return await self._one(Request("POST", _path(webhook_id, "/test")), WebhookDelivery)
