"""The process's long-running parts beside the API: SMTP listener, delivery worker, upkeep.

Started after the runtime is open and stopped before it closes: first the SMTP listener stops
accepting, then the worker finishes the batch in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from tidings_server.blobs.collector import collect_orphans
from tidings_server.delivery import dkim_keys
from tidings_server.delivery.smtp_client import MxTransport, RelaySettings, RelayTransport
from tidings_server.delivery.smtp_sessions import SmtpSessions
from tidings_server.delivery.transport import CaptureTransport, Transport
from tidings_server.delivery.worker import DeliveryWorker
from tidings_server.mail.receiving import MailReceiver
from tidings_server.runtime import Runtime
from tidings_server.smtp import SmtpListener
from tidings_server.store.repositories import IdempotencyRepository
from tidings_server.store.repositories.usage import QuotaRecipientRepository
from tidings_server.usage.expiry import ReservationSweeper
from tidings_server.webhooks.egress import EgressPolicy, WebhookEgress
from tidings_server.webhooks.worker import WebhookWorker

log = logging.getLogger("tidings")
MAINTENANCE_SECONDS = 3600


def _smtp_listener(runtime: Runtime, sock: socket.socket | None) -> SmtpListener | None:
    settings = runtime.settings
    bind = settings.smtp_bind
    if bind is None:
        return None
    receiver = MailReceiver(
        reads=runtime.reads,
        writes=runtime.writes,
        blobs=runtime.blobs,
        clock=runtime.clock,
        domain=settings.domain,
        currency=settings.currency,
        known=runtime.recipients,
        # SQLite has one writer; on PostgreSQL a few overlap their round trips (+7% measured).
        filing_lanes=1 if runtime.is_sqlite else 3,
    )
    return SmtpListener(
        receiver,
        host=bind[0],
        port=bind[1],
        hostname=settings.smtp_hostname or settings.domain,
        max_message_bytes=settings.smtp_max_message_bytes,
        max_recipients=settings.smtp_max_recipients,
        tls_cert=settings.smtp_tls_cert,
        tls_key=settings.smtp_tls_key,
        sock=sock,
    )


def outbound_transport(runtime: Runtime) -> Transport:
    settings = runtime.settings
    helo = settings.smtp_hostname or settings.domain
    route = settings.outbound_route
    sessions = SmtpSessions(idle_seconds=settings.delivery_connection_cache_seconds)
    if route == "relay":
        return RelayTransport(RelaySettings.parse(settings.outbound), helo=helo, sessions=sessions)
    if route == "mx":
        return MxTransport(
            helo=helo, port=settings.mx_port, nameservers=settings.dns_servers, sessions=sessions
        )
    return CaptureTransport()


def delivery_worker(runtime: Runtime) -> DeliveryWorker:
    settings = runtime.settings
    return DeliveryWorker(
        reads=runtime.reads,
        writes=runtime.writes,
        blobs=runtime.blobs,
        clock=runtime.clock,
        domain=settings.domain,
        transports={settings.outbound_route: outbound_transport(runtime)},
        currency=settings.currency,
        batch=settings.delivery_batch,
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        poll_seconds=settings.delivery_poll_seconds,
        group_settles=runtime.is_sqlite,
    )


def webhook_worker(runtime: Runtime, egress: WebhookEgress) -> WebhookWorker:
    settings = runtime.settings
    return WebhookWorker(
        writes=runtime.writes,
        clock=runtime.clock,
        poster=egress,
        batch=settings.webhook_batch,
        lease=timedelta(seconds=settings.webhook_lease_seconds),
        poll_seconds=settings.webhook_poll_seconds,
    )


async def _hourly_maintenance(runtime: Runtime, stop: asyncio.Event) -> None:
    """Collect orphan blobs, forget idempotency records past their 24 hours and recipient
    counts of days before yesterday."""
    while not stop.is_set():
        try:
            now = runtime.clock.now()
            await collect_orphans(runtime.blobs, runtime.reads, now)
            async with runtime.writes.begin() as session:
                await IdempotencyRepository.purge_expired(session, now)
                yesterday = (now - timedelta(days=1)).date().isoformat()
                await QuotaRecipientRepository.forget_before(session, yesterday)
        except Exception:
            log.exception("maintenance failed; trying again next hour")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), MAINTENANCE_SECONDS)


@asynccontextmanager
async def background_services(
    runtime: Runtime, smtp_socket: socket.socket | None = None
) -> AsyncIterator[None]:
    """Run the SMTP listener and the workers; `smtp_socket` is one the process inherited."""
    async with runtime.writes.begin() as session:
        await dkim_keys.ensure_key(session, runtime.settings.domain, runtime.clock.now())
    smtp = _smtp_listener(runtime, smtp_socket)
    if smtp is not None:
        await smtp.start()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(delivery_worker(runtime).run(stop), name="delivery-worker"),
        asyncio.create_task(_hourly_maintenance(runtime, stop), name="maintenance"),
        asyncio.create_task(
            ReservationSweeper(
                writes=runtime.writes,
                clock=runtime.clock,
                poll_seconds=runtime.settings.marketplace_sweep_seconds,
            ).run(stop),
            name="reservation-sweeper",
        ),
    ]
    async with WebhookEgress(EgressPolicy.from_settings(runtime.settings)) as egress:
        tasks.append(
            asyncio.create_task(webhook_worker(runtime, egress).run(stop), name="webhook-worker")
        )
        try:
            yield
        finally:
            if smtp is not None:
                await smtp.stop()
            stop.set()
            await asyncio.gather(*tasks)
