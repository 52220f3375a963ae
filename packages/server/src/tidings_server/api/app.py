"""`create_app(settings)`: the ASGI application with every router and the shared machinery.

Its lifespan is the process's: it opens the runtime (migrations, bootstrap) and starts the
background services (SMTP listener, delivery worker) beside the API, and stops them in
reverse order after HTTP has drained.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tidings_server import __version__
from tidings_server.api import envelope, openapi
from tidings_server.api.edge import Edge
from tidings_server.api.metrics import Metrics
from tidings_server.api.pagination import CursorCodec
from tidings_server.api.rate_limit import DatabaseRateLimiter, MemoryRateLimiter, RateLimiter
from tidings_server.api.routers import (
    api_keys,
    events,
    health,
    identities,
    mailboxes,
    marketplace,
    messages,
    plans,
    session,
    threads,
    usage,
    webhooks,
)
from tidings_server.background import background_services
from tidings_server.clock import Clock, SystemClock
from tidings_server.runtime import Runtime, open_runtime
from tidings_server.settings import Settings
from tidings_server.store.repositories import InstallationRepository

OnStart = Callable[[Runtime], None]


def _rate_limiter(runtime: Runtime) -> RateLimiter:
    policy = runtime.settings.rate_limit
    if runtime.is_sqlite:
        return MemoryRateLimiter(policy)
    return DatabaseRateLimiter(policy, runtime.writes)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    on_start: OnStart | None = None,
    smtp_socket: socket.socket | None = None,
) -> FastAPI:
    """Build the API. The database is migrated and bootstrapped when the app starts up.

    `smtp_socket` is a listening socket to serve SMTP on instead of binding `settings.smtp`
    (several processes share one; see cli/processes.py).
    """
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, clock) as runtime:
            async with runtime.writes.begin() as db:
                cursor_secret = await InstallationRepository(db).secret("cursor", clock.now())
            app.state.runtime = runtime
            app.state.cursor_codec = CursorCodec(cursor_secret)
            app.state.rate_limiter = _rate_limiter(runtime)
            async with background_services(runtime, smtp_socket):
                if on_start is not None:
                    on_start(runtime)
                yield

    app = FastAPI(
        title="Tidings",
        version=__version__,
        summary="Email (and more) for AI agents, self-hosted.",
        lifespan=lifespan,
    )
    metrics = Metrics()
    app.state.metrics = metrics
    envelope.install(app)
    openapi.install(app)
    app.include_router(health.router)
    for router in (
        session.router,
        identities.router,
        mailboxes.router,
        messages.search_router,
        messages.router,
        threads.router,
        api_keys.router,
        events.router,
        events.socket_router,
        webhooks.router,
        webhooks.deliveries_router,
        plans.identity_router,
        plans.key_router,
        usage.router,
        marketplace.mailbox_router,
        marketplace.router,
    ):
        app.include_router(router)
    # Set when shutdown begins (see api.server) so long-lived streams end instead of
    # holding the drain up.
    app.state.stopping = asyncio.Event()
    app.add_middleware(Edge, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    return app
