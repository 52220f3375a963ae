"""The SDK's public surface is exactly this list; anything else is private (`_modules`)."""

import tidings

PUBLIC = [
    "APIConnectionError", "APIError", "APITimeoutError", "Address", "ApiKey", "ApiKeyCreated",
    "AsyncPage", "AsyncTidings", "Attachment", "AuthenticationError", "ConflictError",
    "Deleted", "IdempotencyConflictError", "Identity", "InternalServerError",
    "InvalidKeyKindError", "Mailbox", "Message", "MessageSummary", "NotFoundError",
    "PermissionDeniedError", "PreconditionFailedError", "RateLimitError", "RetryOptions",
    "SearchHit", "SessionInfo", "SyncPage", "Thread", "Tidings", "TidingsError", "ValidationError",
    "__version__", "create_mailbox_client", "create_management_client", "create_sending_client",
    "iter_cursor_pages",
    "EVENT_TYPES", "Event", "MessageBouncedEvent", "MessageDelayedEvent", "MessageDeliveredEvent",
    "MessageFailedEvent", "MessageReceivedEvent", "MessageSentEvent", "WebhookDisabledEvent",
    "WebhookTestEvent", "parse_event", "WebhookVerificationError", "verify_webhook",
    "EventStream", "AsyncEventStream", "Webhook", "WebhookAttempt", "WebhookDelivery",
    "WebhookSecret", "WebhookWithSecret",
    "BoundIdentity", "AsyncBoundIdentity", "OutboundAttachment", "NotModified", "RawResponse",
    "ThreadSummary", "EventType",
    "Usage", "PricingPlan", "Quotas", "QuotaLimit", "LedgerEntry", "LedgerExport",
    "AsyncLedgerExport", "UsageSummary", "UsageGroup", "UsageTotals", "UsageLine",
    "MarketplaceRequest", "MarketplaceMessage", "QuotaExceededError", "SpendLimitExceededError",
    "MarketplaceRequestReceivedEvent", "MarketplaceSettledEvent", "MarketplaceExpiredEvent",
]  # fmt: skip


def test_the_export_list_is_pinned() -> None:
    assert sorted(tidings.__all__) == sorted(PUBLIC)


def test_every_export_resolves_lazily() -> None:
    for name in tidings.__all__:
        assert getattr(tidings, name) is not None


def test_the_sdk_never_imports_the_server() -> None:
    import subprocess
    import sys

    code = "import sys, tidings; tidings.Tidings; print('tidings_server' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
        == "False"
    )


def test_importing_tidings_loads_its_parts_only_when_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tidings\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tidings', 'httpx2', 'pydantic'))\n"
        "print(loaded())\n"
        "tidings.verify_webhook\n"  # a webhook receiver needs no HTTP client
        "print('httpx2' in sys.modules)\n"
        "tidings.Tidings\n"
        "print('httpx2' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split("\n")[:3] == ["['tidings']", "False", "True"], done.stderr
