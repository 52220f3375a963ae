"""`create_app(settings)`: the ASGI application with every router and the shared machinery.

Its lifespan is the process's: it opens the runtime (migrations, bootstrap) and starts the
SMTP listener beside the API, and stops them in reverse order after HTTP has drained.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tidings_server import __version__
from tidings_server.api import envelope
from tidings_server.api.edge import Edge
from tidings_server.api.metrics import Metrics
from tidings_server.api.pagination import CursorCodec
from tidings_server.api.rate_limit import DatabaseRateLimiter, MemoryRateLimiter, RateLimiter
from tidings_server.api.routers import (
    api_keys,
    health,
    identities,
    mailboxes,
    messages,
    session,
    threads,
)
from tidings_server.clock import Clock, SystemClock
from tidings_server.mail.receiving import MailReceiver
from tidings_server.runtime import Runtime, open_runtime
from tidings_server.settings import Settings
from tidings_server.smtp import SmtpListener
from tidings_server.store.repositories import InstallationRepository

OnStart = Callable[[Runtime], None]


def _rate_limiter(runtime: Runtime) -> RateLimiter:
    policy = runtime.settings.rate_limit
    if runtime.is_sqlite:
        return MemoryRateLimiter(policy)
    return DatabaseRateLimiter(policy, runtime.writes)


def _smtp_listener(runtime: Runtime) -> SmtpListener | None:
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
    )


def create_app(
    settings: Settings, *, clock: Clock | None = None, on_start: OnStart | None = None
) -> FastAPI:
    """Build the API. The database is migrated and bootstrapped when the app starts up."""
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, clock) as runtime:
            async with runtime.writes.begin() as db:
                cursor_secret = await InstallationRepository(db).secret("cursor", clock.now())
            app.state.runtime = runtime
            app.state.cursor_codec = CursorCodec(cursor_secret)
            app.state.rate_limiter = _rate_limiter(runtime)
            smtp = _smtp_listener(runtime)
            if smtp is not None:
                await smtp.start()
            app.state.smtp = smtp
            if on_start is not None:
                on_start(runtime)
            try:
                yield
            finally:
                if smtp is not None:
                    await smtp.stop()

    app = FastAPI(
        title="Tidings",
        version=__version__,
        summary="Email (and more) for AI agents, self-hosted.",
        lifespan=lifespan,
    )
    metrics = Metrics()
    app.state.metrics = metrics
    envelope.install(app)
    app.include_router(health.router)
    for router in (
        session.router,
        identities.router,
        mailboxes.router,
        messages.search_router,
        messages.router,
        threads.router,
        api_keys.router,
    ):
        app.include_router(router)
    app.add_middleware(Edge, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    return app
