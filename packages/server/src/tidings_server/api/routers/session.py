"""/v1/session: who am I, what may I do, what does this server offer."""

from __future__ import annotations

from fastapi import Request

from tidings_server.api.deps import Caller, RuntimeDep
from tidings_server.api.pagination import MAX_LIMIT
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.identities import IdentityView
from tidings_server.api.schemas.session import (
    FeaturesView,
    KeyView,
    LimitsView,
    OrganisationView,
    RateLimitView,
    SessionView,
)
from tidings_server.directory.whoami import who_am_i

router = v1_router("/session", "session")


@router.get("")
async def get_session(caller: Caller, runtime: RuntimeDep, request: Request) -> SessionView:
    me = await who_am_i(request.state.session, caller)
    settings = runtime.settings
    return SessionView(
        organisation=OrganisationView(id=me.organisation.id, name=me.organisation.name),
        key=KeyView(id=me.key.id, kind=caller.kind, name=me.key.name, prefix=me.key.prefix),
        identity=IdentityView.of(me.identity) if me.identity else None,
        scopes=list(me.scopes),
        limits=LimitsView(
            rate_limit=RateLimitView(
                requests=settings.rate_limit.requests,
                window_seconds=settings.rate_limit.window_seconds,
            ),
            max_body_bytes=settings.max_body_bytes,
            page_size_max=MAX_LIMIT,
        ),
        features=FeaturesView(
            domain=settings.domain,
            outbound=settings.outbound,
            smtp_inbound=settings.smtp_bind is not None,
            webhooks=True,
            events=True,
            usage=True,
            marketplace=True,
            currency=settings.currency,
        ),
    )
