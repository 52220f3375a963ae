"""Tidings: the Python client for the Tidings agent communication server.

    from tidings import Tidings

    with Tidings() as td:                      # TIDINGS_API_KEY, TIDINGS_BASE_URL
        bot = td.identities.create("support-bot", display_name="Support Bot")

Names are imported lazily, so `import tidings` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Tidings": "tidings._client",
    "create_mailbox_client": "tidings._factories",
    "create_management_client": "tidings._factories",
    "create_sending_client": "tidings._factories",
    "AsyncTidings": "tidings._client",
    "RetryOptions": "tidings._retry",
    "RawResponse": "tidings._raw",
    "OutboundAttachment": "tidings._attachments",
    "BoundIdentity": "tidings._identity",
    "AsyncBoundIdentity": "tidings._identity",
    "SyncPage": "tidings._pagination",
    "AsyncPage": "tidings._pagination",
    "iter_cursor_pages": "tidings._pagination",
    "TidingsError": "tidings._exceptions",
    "APIError": "tidings._exceptions",
    "APIConnectionError": "tidings._exceptions",
    "APITimeoutError": "tidings._exceptions",
    "AuthenticationError": "tidings._exceptions",
    "PermissionDeniedError": "tidings._exceptions",
    "NotFoundError": "tidings._exceptions",
    "ConflictError": "tidings._exceptions",
    "IdempotencyConflictError": "tidings._exceptions",
    "PreconditionFailedError": "tidings._exceptions",
    "ValidationError": "tidings._exceptions",
    "RateLimitError": "tidings._exceptions",
    "InternalServerError": "tidings._exceptions",
    "InvalidKeyKindError": "tidings._exceptions",
    "Address": "tidings._models",
    "ApiKey": "tidings._models",
    "ApiKeyCreated": "tidings._models",
    "Attachment": "tidings._models",
    "Deleted": "tidings._models",
    "EventType": "tidings._models",
    "NotModified": "tidings._models",
    "Identity": "tidings._models",
    "Mailbox": "tidings._models",
    "Message": "tidings._models",
    "MessageSummary": "tidings._models",
    "SearchHit": "tidings._models",
    "SessionInfo": "tidings._models",
    "Thread": "tidings._models",
    "ThreadSummary": "tidings._models",
    "Webhook": "tidings._models",
    "WebhookAttempt": "tidings._models",
    "WebhookDelivery": "tidings._models",
    "WebhookSecret": "tidings._models",
    "WebhookWithSecret": "tidings._models",
    "EventStream": "tidings._streaming",
    "AsyncEventStream": "tidings._streaming",
    "Event": "tidings._events",
    "MessageReceivedEvent": "tidings._events",
    "MessageSentEvent": "tidings._events",
    "MessageDeliveredEvent": "tidings._events",
    "MessageDelayedEvent": "tidings._events",
    "MessageBouncedEvent": "tidings._events",
    "MessageFailedEvent": "tidings._events",
    "WebhookTestEvent": "tidings._events",
    "WebhookDisabledEvent": "tidings._events",
    "parse_event": "tidings._events",
    "EVENT_TYPES": "tidings._events",
    "verify_webhook": "tidings.webhooks",
    "QuotaExceededError": "tidings._exceptions",
    "SpendLimitExceededError": "tidings._exceptions",
    "Usage": "tidings._models",
    "PricingPlan": "tidings._usage",
    "Quotas": "tidings._usage",
    "QuotaLimit": "tidings._usage",
    "LedgerEntry": "tidings._usage",
    "UsageSummary": "tidings._usage",
    "UsageGroup": "tidings._usage",
    "UsageTotals": "tidings._usage",
    "UsageLine": "tidings._usage",
    "MarketplaceRequest": "tidings._usage",
    "MarketplaceMessage": "tidings._usage",
    "LedgerExport": "tidings._export",
    "AsyncLedgerExport": "tidings._export",
    "MarketplaceRequestReceivedEvent": "tidings._events",
    "MarketplaceSettledEvent": "tidings._events",
    "MarketplaceExpiredEvent": "tidings._events",
    "WebhookVerificationError": "tidings.webhooks",
}

__all__ = [
    "EVENT_TYPES",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Address",
    "ApiKey",
    "ApiKeyCreated",
    "AsyncBoundIdentity",
    "AsyncEventStream",
    "AsyncLedgerExport",
    "AsyncPage",
    "AsyncTidings",
    "Attachment",
    "AuthenticationError",
    "BoundIdentity",
    "ConflictError",
    "Deleted",
    "Event",
    "EventStream",
    "EventType",
    "IdempotencyConflictError",
    "Identity",
    "InternalServerError",
    "InvalidKeyKindError",
    "LedgerEntry",
    "LedgerExport",
    "Mailbox",
    "MarketplaceExpiredEvent",
    "MarketplaceMessage",
    "MarketplaceRequest",
    "MarketplaceRequestReceivedEvent",
    "MarketplaceSettledEvent",
    "Message",
    "MessageBouncedEvent",
    "MessageDelayedEvent",
    "MessageDeliveredEvent",
    "MessageFailedEvent",
    "MessageReceivedEvent",
    "MessageSentEvent",
    "MessageSummary",
    "NotFoundError",
    "NotModified",
    "OutboundAttachment",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "PricingPlan",
    "QuotaExceededError",
    "QuotaLimit",
    "Quotas",
    "RateLimitError",
    "RawResponse",
    "RetryOptions",
    "SearchHit",
    "SessionInfo",
    "SpendLimitExceededError",
    "SyncPage",
    "Thread",
    "ThreadSummary",
    "Tidings",
    "TidingsError",
    "Usage",
    "UsageGroup",
    "UsageLine",
    "UsageSummary",
    "UsageTotals",
    "ValidationError",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDisabledEvent",
    "WebhookSecret",
    "WebhookTestEvent",
    "WebhookVerificationError",
    "WebhookWithSecret",
    "__version__",
    "create_mailbox_client",
    "create_management_client",
    "create_sending_client",
    "iter_cursor_pages",
    "parse_event",
    "verify_webhook",
]

if TYPE_CHECKING:
    from tidings._attachments import OutboundAttachment
    from tidings._client import AsyncTidings, Tidings
    from tidings._events import (
        EVENT_TYPES,
        Event,
        MarketplaceExpiredEvent,
        MarketplaceRequestReceivedEvent,
        MarketplaceSettledEvent,
        MessageBouncedEvent,
        MessageDelayedEvent,
        MessageDeliveredEvent,
        MessageFailedEvent,
        MessageReceivedEvent,
        MessageSentEvent,
        WebhookDisabledEvent,
        WebhookTestEvent,
        parse_event,
    )
    from tidings._exceptions import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        ConflictError,
        IdempotencyConflictError,
        InternalServerError,
        InvalidKeyKindError,
        NotFoundError,
        PermissionDeniedError,
        PreconditionFailedError,
        QuotaExceededError,
        RateLimitError,
        SpendLimitExceededError,
        TidingsError,
        ValidationError,
    )
    from tidings._export import AsyncLedgerExport, LedgerExport
    from tidings._factories import (
        create_mailbox_client,
        create_management_client,
        create_sending_client,
    )
    from tidings._identity import AsyncBoundIdentity, BoundIdentity
    from tidings._models import (
        Address,
        ApiKey,
        ApiKeyCreated,
        Attachment,
        Deleted,
        EventType,
        Identity,
        Mailbox,
        Message,
        MessageSummary,
        NotModified,
        SearchHit,
        SessionInfo,
        Thread,
        ThreadSummary,
        Usage,
        Webhook,
        WebhookAttempt,
        WebhookDelivery,
        WebhookSecret,
        WebhookWithSecret,
    )
    from tidings._pagination import AsyncPage, SyncPage, iter_cursor_pages
    from tidings._raw import RawResponse
    from tidings._retry import RetryOptions
    from tidings._streaming import AsyncEventStream, EventStream
    from tidings._usage import (
        LedgerEntry,
        MarketplaceMessage,
        MarketplaceRequest,
        PricingPlan,
        QuotaLimit,
        Quotas,
        UsageGroup,
        UsageLine,
        UsageSummary,
        UsageTotals,
    )
    from tidings.webhooks import WebhookVerificationError, verify_webhook


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tidings' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
