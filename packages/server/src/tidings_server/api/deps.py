"""Dependencies endpoints declare: the unit of work's session, the caller, and services.

Each one FastAPI calls is a coroutine: it runs a plain function in a worker thread, and
those hand-offs cost more than building a service does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from tidings_server.directory.api_keys import ApiKeyService
from tidings_server.directory.identities import IdentityService
from tidings_server.directory.keys import Principal
from tidings_server.directory.mailboxes import MailboxService
from tidings_server.mail.reading import MailboxReader
from tidings_server.mail.sending import MailSender, OutboundPolicy
from tidings_server.runtime import Runtime
from tidings_server.usage.marketplace import Marketplace
from tidings_server.usage.plans import PricingService, QuotaService
from tidings_server.usage.reports import UsageReports
from tidings_server.webhooks.egress import EgressPolicy
from tidings_server.webhooks.subscriptions import WebhookService

# Authentication itself happens in ApiRoute; this only documents the scheme in OpenAPI.
bearer = HTTPBearer(auto_error=False, description="An API key: td_root_... or td_agent_...")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _caller(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


async def identity_service(request: Request) -> IdentityService:
    runtime = _runtime(request)
    return IdentityService(
        request.state.session, _caller(request), runtime.clock, domain=runtime.settings.domain
    )


async def mailbox_service(request: Request) -> MailboxService:
    return MailboxService(request.state.session, _caller(request), _runtime(request).clock)


async def api_key_service(request: Request) -> ApiKeyService:
    return ApiKeyService(request.state.session, _caller(request), _runtime(request).clock)


async def mailbox_reader(request: Request) -> MailboxReader:
    runtime = _runtime(request)
    return MailboxReader(
        request.state.session,
        _caller(request),
        runtime.clock,
        long_reads=runtime.long_reads,
        search_window=runtime.settings.search_window,
    )


def _mail_sender(request: Request) -> MailSender:
    runtime = _runtime(request)
    settings = runtime.settings
    policy = OutboundPolicy(
        domain=settings.domain,
        route=settings.outbound_route,
        lifetime=timedelta(seconds=settings.delivery_lifetime_seconds),
        currency=settings.currency,
    )
    # Where writers are serial, a send is built outside the write transaction (see mail.sending).
    lookups = runtime.reads if runtime.is_sqlite else None
    return MailSender(
        request.state.session, _caller(request), runtime.clock, runtime.blobs, policy,
        lookups=lookups, senders=runtime.senders,
    )  # fmt: skip


async def idempotency_key_of(request: Request) -> str | None:
    """The request's Idempotency-Key (header or body), which sends record on the message."""
    key: str | None = getattr(request.state, "idempotency_key", None)
    return key


async def webhook_service(request: Request) -> WebhookService:
    runtime = _runtime(request)
    settings = runtime.settings
    return WebhookService(
        request.state.session,
        _caller(request),
        runtime.clock,
        EgressPolicy.from_settings(settings),
        secret_grace=timedelta(seconds=settings.webhook_secret_grace_seconds),
    )


async def pricing_service(request: Request) -> PricingService:
    return PricingService(request.state.session, _caller(request), _runtime(request).clock)


async def quota_service(request: Request) -> QuotaService:
    return QuotaService(request.state.session, _caller(request), _runtime(request).clock)


async def usage_reports(request: Request) -> UsageReports:
    return UsageReports(request.state.session, _caller(request))


async def marketplace(request: Request) -> Marketplace:
    runtime = _runtime(request)
    settings = runtime.settings
    return Marketplace(
        _mail_sender(request),
        _caller(request),
        runtime.clock,
        currency=settings.currency,
        reservation=timedelta(seconds=settings.marketplace_reservation_seconds),
    )


async def runtime_of(request: Request) -> Runtime:
    return _runtime(request)


async def caller_of(request: Request) -> Principal:
    return _caller(request)


async def mail_sender(request: Request) -> MailSender:
    return _mail_sender(request)


Caller = Annotated[Principal, Depends(caller_of)]
RequestIdempotencyKey = Annotated[str | None, Depends(idempotency_key_of)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Identities = Annotated[IdentityService, Depends(identity_service)]
Mailboxes = Annotated[MailboxService, Depends(mailbox_service)]
ApiKeys = Annotated[ApiKeyService, Depends(api_key_service)]
Readers = Annotated[MailboxReader, Depends(mailbox_reader)]
Senders = Annotated[MailSender, Depends(mail_sender)]
Webhooks = Annotated[WebhookService, Depends(webhook_service)]
Pricing = Annotated[PricingService, Depends(pricing_service)]
QuotaLimits = Annotated[QuotaService, Depends(quota_service)]
Reports = Annotated[UsageReports, Depends(usage_reports)]
MarketplaceDep = Annotated[Marketplace, Depends(marketplace)]
