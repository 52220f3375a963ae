"""Typed events: what a webhook (or the event stream) delivers, parsed into one model per type.

Every event on the wire is `{"id": "evt_...", "type": ..., "timestamp": ..., "data": {...}}`.
`parse_event` picks the model for the type; a type this SDK does not know yet (a newer server
may add some) becomes a plain `Event` with `data` left as a dict, so receivers never break.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from tidings._models import Message, Model, ThreadSummary
from tidings._usage import MarketplaceRequest, UsageLine

__all__ = [
    "EVENT_TYPES",
    "AgentIdentity",
    "Contact",
    "Delivery",
    "DeliveryEventData",
    "Event",
    "EventMessage",
    "MarketplaceExpiredData",
    "MarketplaceExpiredEvent",
    "MarketplaceRequestReceivedData",
    "MarketplaceRequestReceivedEvent",
    "MarketplaceSettledData",
    "MarketplaceSettledEvent",
    "MessageBouncedEvent",
    "MessageDelayedEvent",
    "MessageDeliveredEvent",
    "MessageEventData",
    "MessageFailedEvent",
    "MessageReceivedEvent",
    "MessageSentEvent",
    "WebhookDisabledData",
    "WebhookDisabledEvent",
    "WebhookTestData",
    "WebhookTestEvent",
    "parse_event",
]


class EventMessage(Message):
    """The message as an event carries it: bodies may be cut short to keep requests small."""

    body_truncated: bool = False


class Contact(Model):
    """Someone in the message who is not one of this organisation's identities."""

    address: str
    name: str = ""


class AgentIdentity(Model):
    """An address in the message that belongs to one of this organisation's identities."""

    identity_id: str
    handle: str
    address: str


class MessageEventData(Model):
    message: EventMessage
    thread: ThreadSummary
    contacts: list[Contact] = []
    agent_identities: list[AgentIdentity] = []


class Delivery(Model):
    """How sending to one recipient went (or is going)."""

    recipient: str
    status: str
    attempts: int = 0
    code: int | None = None
    detail: str | None = None
    next_attempt_at: datetime | None = None


class DeliveryEventData(MessageEventData):
    delivery: Delivery
    idempotency_key: str | None = None
    correlation_id: str | None = None


class WebhookTestData(Model):
    webhook_id: str
    message: str


class WebhookDisabledData(Model):
    webhook_id: str
    url: str
    reason: str


class MarketplaceRequestReceivedData(MessageEventData):
    """A buyer's request filed into a seller's mailbox, with the seller's side it opened."""

    marketplace_request: MarketplaceRequest


class MarketplaceSettledData(Model):
    """Either side, settled: `charged` and (the buyer's) `released`, and the priced lines."""

    marketplace_request: MarketplaceRequest
    lines: list[UsageLine] = []


class MarketplaceExpiredData(Model):
    """The buyer's side, unanswered in time: its hold is `released`."""

    marketplace_request: MarketplaceRequest


class Event(Model):
    """Any event. Known types parse to a subclass whose `data` is a typed model."""

    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any] = {}


# The subclasses narrow `data` from a dict to a model. mypy calls that an incompatible
# override; it is deliberate (narrow with isinstance, then `event.data` is fully typed).


class MessageReceivedEvent(Event):
    type: Literal["message.received"] = "message.received"
    data: MessageEventData  # type: ignore[assignment]


class MessageSentEvent(Event):
    type: Literal["message.sent"] = "message.sent"
    data: DeliveryEventData  # type: ignore[assignment]


class MessageDeliveredEvent(Event):
    type: Literal["message.delivered"] = "message.delivered"
    data: DeliveryEventData  # type: ignore[assignment]


class MessageDelayedEvent(Event):
    type: Literal["message.delayed"] = "message.delayed"
    data: DeliveryEventData  # type: ignore[assignment]


class MessageBouncedEvent(Event):
    type: Literal["message.bounced"] = "message.bounced"
    data: DeliveryEventData  # type: ignore[assignment]


class MessageFailedEvent(Event):
    type: Literal["message.failed"] = "message.failed"
    data: DeliveryEventData  # type: ignore[assignment]


class WebhookTestEvent(Event):
    type: Literal["webhook.test"] = "webhook.test"
    data: WebhookTestData  # type: ignore[assignment]


class WebhookDisabledEvent(Event):
    type: Literal["webhook.disabled"] = "webhook.disabled"
    data: WebhookDisabledData  # type: ignore[assignment]


class MarketplaceRequestReceivedEvent(Event):
    type: Literal["marketplace.request_received"] = "marketplace.request_received"
    data: MarketplaceRequestReceivedData  # type: ignore[assignment]


class MarketplaceSettledEvent(Event):
    type: Literal["marketplace.settled"] = "marketplace.settled"
    data: MarketplaceSettledData  # type: ignore[assignment]


class MarketplaceExpiredEvent(Event):
    type: Literal["marketplace.expired"] = "marketplace.expired"
    data: MarketplaceExpiredData  # type: ignore[assignment]


_BY_TYPE: dict[str, type[Event]] = {
    "message.received": MessageReceivedEvent,
    "message.sent": MessageSentEvent,
    "message.delivered": MessageDeliveredEvent,
    "message.delayed": MessageDelayedEvent,
    "message.bounced": MessageBouncedEvent,
    "message.failed": MessageFailedEvent,
    "webhook.test": WebhookTestEvent,
    "webhook.disabled": WebhookDisabledEvent,
    "marketplace.request_received": MarketplaceRequestReceivedEvent,
    "marketplace.settled": MarketplaceSettledEvent,
    "marketplace.expired": MarketplaceExpiredEvent,
}

EVENT_TYPES: tuple[str, ...] = tuple(_BY_TYPE)
"""The event types this SDK parses into typed models."""


def parse_event(obj: Mapping[str, Any] | bytes | str) -> Event:
    """The typed event for a decoded JSON object, or for the raw JSON body.

    Raises `ValueError` (pydantic's `ValidationError` is one) when the input is not JSON, not
    an object, or not shaped like its type says. An unknown `type` is not an error.
    """
    raw: Any = json.loads(obj) if isinstance(obj, bytes | str) else obj
    if not isinstance(raw, Mapping):
        raise ValueError(f"an event is a JSON object, not {type(raw).__name__}")
    kind = raw.get("type")
    cls = _BY_TYPE.get(kind, Event) if isinstance(kind, str) else Event
    return cls.model_validate(raw)
