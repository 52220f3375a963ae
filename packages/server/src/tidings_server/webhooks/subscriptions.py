"""Webhook subscriptions: who owns them, what they ask for, their secrets, tests and replays.

An agent key manages only its own identity's subscriptions; a root key may also subscribe
to the whole organisation. Everything outside the caller's scope is 404.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.clock import Clock
from tidings_server.directory.keys import Principal
from tidings_server.errors import Conflict, FieldError, NotFound, ValidationFailed
from tidings_server.events.log import EVENT_TYPES, append_event
from tidings_server.store.models import Identity, Mailbox, Webhook, WebhookAttempt, WebhookDelivery
from tidings_server.store.repositories import Page, PageRequest
from tidings_server.store.repositories.webhooks import (
    WebhookDeliveryRepository,
    WebhookRepository,
)
from tidings_server.webhooks.egress import EgressPolicy, EgressRefused, check_url
from tidings_server.webhooks.fanout import new_delivery

# Headers the delivery itself sets; a subscription may not override them.
RESERVED_HEADERS = frozenset(
    {"content-type", "content-length", "host", "user-agent", "transfer-encoding", "connection"}
)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


AttemptsByDelivery = dict[str, list[WebhookAttempt]]


@dataclass(frozen=True)
class Owner:
    """Whose events a subscription receives: an identity's, one mailbox's, or everyone's."""

    identity_id: str | None = None
    mailbox_id: str | None = None

    @classmethod
    def of(cls, principal: Principal, identity: Identity | None, mailbox: Mailbox | None) -> Owner:
        """The owner a request names (already found in the caller's scope).

        With neither named, a root key subscribes to the whole organisation and an agent key
        to its own identity: an agent can never see beyond itself.
        """
        if mailbox is not None:
            return cls(identity_id=mailbox.identity_id, mailbox_id=mailbox.id)
        if identity is not None:
            return cls(identity_id=identity.id)
        return cls(identity_id=principal.identity_id)


@dataclass(frozen=True)
class DeliveryRecord:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


def check_event_types(types: Sequence[str]) -> list[str]:
    """Non-empty, distinct and in the catalogue, or a 422 that names the offending entry."""
    if not types:
        raise ValidationFailed(
            "`event_types` is empty: a subscription must ask for at least one event type.",
            code="event_types_empty",
            param="event_types",
            fix=f"List one or more of: {', '.join(EVENT_TYPES)}.",
        )
    problems: list[FieldError] = []
    seen: set[str] = set()
    for index, name in enumerate(types):
        where = f"event_types[{index}]"
        if name not in EVENT_TYPES:
            problems.append(
                FieldError(where, "unknown_event_type", f"{name!r} is not an event type")
            )
        elif name in seen:
            problems.append(FieldError(where, "duplicate_event_type", f"{name!r} is listed twice"))
        seen.add(name)
    _refuse(problems, fix=f"Use each type at most once, from: {', '.join(EVENT_TYPES)}.")
    return list(types)


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    problems: list[FieldError] = []
    for name, value in headers.items():
        where = f"headers.{name}"
        lowered = name.lower()
        if not name or not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name):
            problems.append(FieldError(where, "invalid_header_name", "not a valid header name"))
        elif lowered in RESERVED_HEADERS or lowered.startswith("webhook-"):
            problems.append(FieldError(where, "reserved_header", "set by Tidings itself"))
        elif any(c in value for c in "\r\n\x00"):
            problems.append(FieldError(where, "invalid_header_value", "contains CR, LF or NUL"))
    _refuse(
        problems,
        fix="Use token header names other than webhook-* and the standard request headers, "
        "with single-line values.",
    )
    return dict(headers)


def _refuse(problems: list[FieldError], *, fix: str) -> None:
    """A 422 naming the first problem in `param`, with all of them in `errors`."""
    if problems:
        first = problems[0]
        raise ValidationFailed(
            f"`{first.field}`: {first.message}.",
            code=first.code,
            param=first.field,
            errors=problems,
            fix=fix,
        )


class WebhookService:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        egress: EgressPolicy,
        *,
        secret_grace: timedelta,
    ) -> None:
        self.session = session
        self.principal = principal
        self.clock = clock
        self.egress = egress
        self.secret_grace = secret_grace
        self.webhooks = WebhookRepository(session, principal.scope)
        self.deliveries = WebhookDeliveryRepository(session, principal.scope)

    async def create(
        self,
        *,
        url: str,
        event_types: Sequence[str],
        owner: Owner,
        headers: Mapping[str, str],
        description: str,
        enabled: bool,
    ) -> Webhook:
        types = check_event_types(event_types)
        await self._check_url(url)
        now = self.clock.now()
        webhook = Webhook(
            id=ids.new_id("whk"),
            org_id=self.principal.org_id,
            identity_id=owner.identity_id,
            mailbox_id=owner.mailbox_id,
            url=url,
            event_types=types,
            headers=check_headers(headers),
            description=description,
            enabled=enabled,
            secret=new_secret(),
            created_at=now,
            updated_at=now,
        )
        self.webhooks.add(webhook)
        await self.session.flush()
        return webhook

    async def get(self, webhook_id: str) -> Webhook:
        found = await self.webhooks.get(webhook_id)
        if found is None:
            raise NotFound(f"No webhook {webhook_id!r}.", param="webhook_id")
        return found

    async def list(self, page: PageRequest) -> Page[Webhook]:
        return await self.webhooks.page(page)

    async def update(self, webhook_id: str, changes: Mapping[str, object]) -> Webhook:
        webhook = await self.get(webhook_id)
        now = self.clock.now()
        if "url" in changes:
            url = str(changes["url"])
            await self._check_url(url)
            webhook.url = url
        if "event_types" in changes:
            webhook.event_types = check_event_types(list(changes["event_types"]))  # type: ignore[call-overload]
        if "headers" in changes:
            webhook.headers = check_headers(changes["headers"])  # type: ignore[arg-type]
        if "description" in changes:
            webhook.description = str(changes["description"])
        if "enabled" in changes and bool(changes["enabled"]) != webhook.enabled:
            webhook.enabled = bool(changes["enabled"])
            webhook.failing_since = None
            webhook.disabled_reason = None if webhook.enabled else "disabled through the API"
            if not webhook.enabled:
                await self.deliveries.cancel_pending(webhook.id, now)
        webhook.updated_at = now
        await self.session.flush()
        return webhook

    async def delete(self, webhook_id: str) -> Webhook:
        webhook = await self.get(webhook_id)
        await self.webhooks.delete(webhook)
        await self.session.flush()
        return webhook

    async def rotate_secret(self, webhook_id: str, grace: timedelta | None) -> Webhook:
        """A new secret; the old one keeps signing alongside it until the grace period ends."""
        webhook = await self.get(webhook_id)
        now = self.clock.now()
        webhook.previous_secret = webhook.secret
        webhook.previous_secret_expires_at = now + (self.secret_grace if grace is None else grace)
        webhook.secret = new_secret()
        webhook.updated_at = now
        await self.session.flush()
        return webhook

    async def send_test(self, webhook_id: str) -> WebhookDelivery:
        """A `webhook.test` event delivered to this subscription only."""
        webhook = self._enabled(await self.get(webhook_id))
        now = self.clock.now()
        event = await append_event(
            self.session,
            org_id=webhook.org_id,
            identity_id=webhook.identity_id,
            mailbox_id=webhook.mailbox_id,
            type_="webhook.test",
            data={"webhook_id": webhook.id, "message": "A test event from Tidings."},
            now=now,
        )
        delivery = new_delivery(event, webhook, now=now)
        self.deliveries.add(delivery)
        await self.session.flush()
        return delivery

    async def deliveries_page(
        self,
        page: PageRequest,
        *,
        webhook_id: str | None,
        event_id: str | None,
        status: str | None,
    ) -> tuple[Page[WebhookDelivery], AttemptsByDelivery]:
        found = await self.deliveries.page_filtered(
            page, webhook_id=webhook_id, event_id=event_id, status=status
        )
        attempts = await self.deliveries.attempts_of([d.id for d in found.items])
        return found, attempts

    async def delivery(self, delivery_id: str) -> DeliveryRecord:
        found = await self.deliveries.get(delivery_id)
        if found is None:
            raise NotFound(f"No webhook delivery {delivery_id!r}.", param="delivery_id")
        attempts = await self.deliveries.attempts_of([found.id])
        return DeliveryRecord(found, attempts.get(found.id, []))

    async def replay(self, delivery_id: str) -> WebhookDelivery:
        """Send the delivery's event again, with the same `webhook-id`, as a delivery of its own."""
        original = (await self.delivery(delivery_id)).delivery
        webhook = self._enabled(await self.get(original.webhook_id))
        event = await self.deliveries.event(original.event_id)
        if event is None:
            raise NotFound(f"The event of delivery {delivery_id!r} is gone.", param="delivery_id")
        replay = new_delivery(event, webhook, now=self.clock.now(), replay_of=original.id)
        replay.order_key = replay.id  # a re-send waits for nothing and holds nothing up
        self.deliveries.add(replay)
        await self.session.flush()
        return replay

    def _enabled(self, webhook: Webhook) -> Webhook:
        if not webhook.enabled:
            raise Conflict(
                f"Webhook {webhook.id} is disabled"
                + (f" ({webhook.disabled_reason})." if webhook.disabled_reason else "."),
                code="webhook_disabled",
                param="webhook_id",
                fix='Enable it with PATCH /v1/webhooks/subscriptions/{id} {"enabled": true} first.',
            )
        return webhook

    async def _check_url(self, url: str) -> None:
        try:
            await check_url(url, self.egress)
        except EgressRefused as refused:
            raise ValidationFailed(
                f"`url` is not allowed: {refused.reason}",
                code="webhook_url_not_allowed",
                param="url",
                fix=refused.fix,
            ) from None
