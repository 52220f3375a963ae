"""`td.webhooks`: subscriptions, their signing secrets and tests; `td.webhooks.deliveries`:
what was sent where, every attempt, and replaying one.

Verifying what a webhook receives is `tidings.verify_webhook`, which needs no client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, overload

from tidings._base_client import AsyncAPIClient, SyncAPIClient
from tidings._bodies import SecretRotationBody, WebhookCreateBody, WebhookUpdateBody
from tidings._endpoints import Api, Request
from tidings._models import (
    Deleted,
    NotModified,
    Webhook,
    WebhookDelivery,
    WebhookSecret,
    WebhookWithSecret,
)
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings.resources._shared import (
    AsyncResource,
    SyncResource,
    conditional,
    idempotent,
    page_params,
)

DeliveryStatus = Literal["pending", "succeeded", "failed", "cancelled"]


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
    body = WebhookCreateBody.given(
        url=url, event_types=list(event_types), identity=identity, mailbox=mailbox,
        description=description, enabled=enabled,
        headers=dict(headers) if headers is not None else None,
    )  # fmt: skip
    return Api.CREATE_WEBHOOK.request(body=body, headers=idempotent(idempotency_key))


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
    changes = WebhookUpdateBody.given(
        url=url, description=description, enabled=enabled,
        event_types=list(event_types) if event_types is not None else None,
        headers=dict(headers) if headers is not None else None,
    )  # fmt: skip
    return Api.UPDATE_WEBHOOK.request(
        webhook_id=webhook_id, body=changes, headers=conditional(if_match=if_match)
    )


def _rotate(webhook_id: str, grace_period_seconds: int | None) -> Request:
    given = grace_period_seconds is not None
    body = SecretRotationBody(grace_period_seconds=grace_period_seconds) if given else None
    return Api.ROTATE_WEBHOOK_SECRET.request(webhook_id=webhook_id, body=body)


def _get(webhook_id: str, if_none_match: str | None) -> Request:
    headers = conditional(if_none_match=if_none_match)
    return Api.GET_WEBHOOK.request(webhook_id=webhook_id, headers=headers)


def _delete(webhook_id: str, if_match: str | None) -> Request:
    return Api.DELETE_WEBHOOK.request(webhook_id=webhook_id, headers=conditional(if_match=if_match))


def _deliveries(
    webhook_id: str | None,
    event_id: str | None,
    status: DeliveryStatus | None,
    limit: int | None,
    cursor: str | None,
) -> Request:
    params = page_params(limit, cursor, webhook_id=webhook_id, event_id=event_id, status=status)
    return Api.LIST_DELIVERIES.request(params=params)


def _delivery(delivery_id: str, if_none_match: str | None) -> Request:
    headers = conditional(if_none_match=if_none_match)
    return Api.GET_DELIVERY.request(delivery_id=delivery_id, headers=headers)


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

    @overload
    def get(self, delivery_id: str) -> WebhookDelivery: ...
    @overload
    def get(
        self, delivery_id: str, *, if_none_match: str | None
    ) -> WebhookDelivery | NotModified: ...
    def get(
        self, delivery_id: str, *, if_none_match: str | None = None
    ) -> WebhookDelivery | NotModified:
        return self._maybe(_delivery(delivery_id, if_none_match), WebhookDelivery)

    def replay(self, delivery_id: str) -> WebhookDelivery:
        """Send the event again as a new delivery, with the same `webhook-id` as before."""
        request = Api.REPLAY_DELIVERY.request(delivery_id=delivery_id)
        return self._one(request, WebhookDelivery)


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
        return self._page(Api.LIST_WEBHOOKS.request(params=page_params(limit, cursor)), Webhook)

    @overload
    def get(self, webhook_id: str) -> Webhook: ...
    @overload
    def get(self, webhook_id: str, *, if_none_match: str | None) -> Webhook | NotModified: ...
    def get(self, webhook_id: str, *, if_none_match: str | None = None) -> Webhook | NotModified:
        return self._maybe(_get(webhook_id, if_none_match), Webhook)

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
        return self._one(_delete(webhook_id, if_match), Deleted)

    def get_secret(self, webhook_id: str) -> WebhookSecret:
        request = Api.GET_WEBHOOK_SECRET.request(webhook_id=webhook_id)
        return self._one(request, WebhookSecret)

    def rotate_secret(
        self, webhook_id: str, *, grace_period_seconds: int | None = None
    ) -> WebhookSecret:
        """A new secret. Deliveries are signed with the old one too until the grace period
        (a day by default) ends, so receivers can switch without losing a request."""
        return self._one(_rotate(webhook_id, grace_period_seconds), WebhookSecret)

    def test(self, webhook_id: str) -> WebhookDelivery:
        """Send a `webhook.test` event to this webhook only; follow it in the delivery."""
        return self._one(Api.TEST_WEBHOOK.request(webhook_id=webhook_id), WebhookDelivery)


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

    @overload
    async def get(self, delivery_id: str) -> WebhookDelivery: ...
    @overload
    async def get(
        self, delivery_id: str, *, if_none_match: str | None
    ) -> WebhookDelivery | NotModified: ...
    async def get(
        self, delivery_id: str, *, if_none_match: str | None = None
    ) -> WebhookDelivery | NotModified:
        return await self._maybe(_delivery(delivery_id, if_none_match), WebhookDelivery)

    async def replay(self, delivery_id: str) -> WebhookDelivery:
        request = Api.REPLAY_DELIVERY.request(delivery_id=delivery_id)
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
        request = Api.LIST_WEBHOOKS.request(params=page_params(limit, cursor))
        return await self._page(request, Webhook)

    @overload
    async def get(self, webhook_id: str) -> Webhook: ...
    @overload
    async def get(self, webhook_id: str, *, if_none_match: str | None) -> Webhook | NotModified: ...
    async def get(
        self, webhook_id: str, *, if_none_match: str | None = None
    ) -> Webhook | NotModified:
        return await self._maybe(_get(webhook_id, if_none_match), Webhook)

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
        return await self._one(_delete(webhook_id, if_match), Deleted)

    async def get_secret(self, webhook_id: str) -> WebhookSecret:
        request = Api.GET_WEBHOOK_SECRET.request(webhook_id=webhook_id)
        return await self._one(request, WebhookSecret)

    async def rotate_secret(
        self, webhook_id: str, *, grace_period_seconds: int | None = None
    ) -> WebhookSecret:
        return await self._one(_rotate(webhook_id, grace_period_seconds), WebhookSecret)

    async def test(self, webhook_id: str) -> WebhookDelivery:
        request = Api.TEST_WEBHOOK.request(webhook_id=webhook_id)
        return await self._one(request, WebhookDelivery)


class WebhookDeliveriesWithRawResponse:
    def __init__(self, deliveries: WebhookDeliveries) -> None:
        self.list = raw(deliveries.list)
        self.get = raw(deliveries.get)
        self.replay = raw(deliveries.replay)


class WebhooksWithRawResponse:
    def __init__(self, webhooks: Webhooks) -> None:
        self.deliveries = WebhookDeliveriesWithRawResponse(webhooks.deliveries)
        self.create = raw(webhooks.create)
        self.list = raw(webhooks.list)
        self.get = raw(webhooks.get)
        self.update = raw(webhooks.update)
        self.delete = raw(webhooks.delete)
        self.get_secret = raw(webhooks.get_secret)
        self.rotate_secret = raw(webhooks.rotate_secret)
        self.test = raw(webhooks.test)


class AsyncWebhookDeliveriesWithRawResponse:
    def __init__(self, deliveries: AsyncWebhookDeliveries) -> None:
        self.list = araw(deliveries.list)
        self.get = araw(deliveries.get)
        self.replay = araw(deliveries.replay)


class AsyncWebhooksWithRawResponse:
    def __init__(self, webhooks: AsyncWebhooks) -> None:
        self.deliveries = AsyncWebhookDeliveriesWithRawResponse(webhooks.deliveries)
        self.create = araw(webhooks.create)
        self.list = araw(webhooks.list)
        self.get = araw(webhooks.get)
        self.update = araw(webhooks.update)
        self.delete = araw(webhooks.delete)
        self.get_secret = araw(webhooks.get_secret)
        self.rotate_secret = araw(webhooks.rotate_secret)
        self.test = araw(webhooks.test)
