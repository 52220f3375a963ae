"""`ApiRoute`: what every /v1 endpoint gets without asking.

Around each endpoint it authenticates the key and applies its rate limit, opens the request's
one unit of work (committed once if the endpoint succeeds, rolled back otherwise), honours
`Idempotency-Key` on POST, and adds an ETag (and 304 answers) to successful JSON GETs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.responses import Response

from tidings_server.api import conditional, idempotency
from tidings_server.api.rate_limit import RateLimiter
from tidings_server.directory import keys
from tidings_server.directory.keys import Principal
from tidings_server.directory.recent import DIRECTORY_CHANGED
from tidings_server.errors import Unauthorized
from tidings_server.runtime import Runtime
from tidings_server.store.repositories import IdempotencyRepository
from tidings_server.store.repositories.idempotency import Claim, ClaimState

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]
AfterSuccess = Callable[[AsyncSession, Response], Awaitable[None]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TAGGED = frozenset({"GET", "PATCH", "PUT"})
REDACT_ON_REPLAY = "x-tidings-redact-on-replay"
BODY_IDEMPOTENCY_KEY = "x-tidings-body-idempotency-key"


def _bearer(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "The Authorization header must be `Bearer <key>`.",
            code="malformed_api_key",
            param="Authorization",
        )
    return token.strip()


async def authenticate(request: HTTPConnection) -> Principal:
    runtime: Runtime = request.app.state.runtime
    limiter: RateLimiter = request.app.state.rate_limiter
    presented = keys.require_key(_bearer(request))
    now = runtime.clock.now()
    principal = runtime.principals.get(presented, now)
    if principal is None:
        async with runtime.reads() as session:
            principal = await keys.authenticate(session, presented, runtime.clock)
        runtime.principals.put(presented, principal)
    if keys.needs_touch(principal, now):
        async with runtime.writes.begin() as session:
            await keys.record_use(session, principal, now)
        principal = runtime.principals.used(presented, principal, now)
    decision = await limiter.hit(principal.key_id, now.timestamp())
    request.state.rate_limit = decision
    if not decision.allowed:
        raise decision.error(now.timestamp())
    request.state.principal = principal
    return principal


async def _unit_of_work(
    request: Request, endpoint: Endpoint, after_success: AfterSuccess | None = None
) -> Response:
    runtime: Runtime = request.app.state.runtime
    reading = request.method in SAFE_METHODS
    async with (runtime.reads if reading else runtime.writes)() as session:
        request.state.session = session
        try:
            response = await endpoint(request)
            if response.status_code >= 400:
                await session.rollback()
                return response
            if after_success is not None:
                await after_success(session, response)
            # A read unit of work has nothing to commit (SQLite's read connections cannot
            # write, PostgreSQL's run each statement on its own): closing the session ends it.
            if not reading:
                await session.commit()
        except BaseException:
            await session.rollback()
            raise
        if session.info.pop(DIRECTORY_CHANGED, False):
            runtime.forget_directory()
    return response


def _with_etag(request: Request, response: Response) -> Response:
    """Tag a resource's representation: GETs (304 when `If-None-Match` names it) and the
    answers of PATCH and PUT, which show the resource as a GET now would."""
    if response.status_code != 200 or response.media_type != "application/json":
        return response
    etag = conditional.etag_of_bytes(bytes(response.body))
    if request.method == "GET" and conditional.matches_none(request, etag):
        return Response(status_code=304, headers={"etag": etag})
    response.headers["etag"] = etag
    return response


async def _idempotent(
    request: Request, endpoint: Endpoint, key: str, body: bytes, secret_fields: list[str]
) -> Response:
    runtime: Runtime = request.app.state.runtime
    principal: Principal = request.state.principal
    settings = runtime.settings
    fingerprint = idempotency.fingerprint(request.method, request.url.path, request.url.query, body)

    def records(session: AsyncSession) -> IdempotencyRepository:
        return IdempotencyRepository(session, org_id=principal.org_id, api_key_id=principal.key_id)

    async with runtime.writes.begin() as session:
        claim: Claim = await records(session).claim(
            key,
            fingerprint,
            now=runtime.clock.now(),
            lease=idempotency.lease(settings.idempotency_lease_seconds),
            ttl=idempotency.lease(settings.idempotency_ttl_seconds),
        )
    if claim.state is ClaimState.REPLAY:
        return idempotency.replay(claim)
    if claim.state is not ClaimState.NEW:
        raise idempotency.refuse(claim, settings.idempotency_lease_seconds)

    async def remember(session: AsyncSession, response: Response) -> None:
        await records(session).complete(
            claim.record.id,
            status=response.status_code,
            headers=idempotency.stored_headers(response),
            body=idempotency.redacted(bytes(response.body), secret_fields),
        )

    async def release() -> None:
        async with runtime.writes.begin() as session:
            await records(session).release(claim.record.id)

    try:
        response = await _unit_of_work(request, endpoint, after_success=remember)
    except Exception:
        await release()
        raise
    if response.status_code >= 400:
        await release()
    return response


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Endpoint:
        endpoint = super().get_route_handler()
        # Answers that carry a secret (a new API key) are stored for replay without it.
        extra = self.openapi_extra or {}
        secret_fields = list(extra.get(REDACT_ON_REPLAY, []))
        # Sends may carry their idempotency key in the body as well as in the header.
        body_key_fields: list[str] = list(extra.get(BODY_IDEMPOTENCY_KEY, []))

        async def handler(request: Request) -> Response:
            body = await request.body()  # enforces the size limit before anything runs
            await authenticate(request)
            key = idempotency.requested_key(request, body, body_key_fields)
            request.state.idempotency_key = key
            if key is not None:
                return await _idempotent(request, endpoint, key, body, secret_fields)
            response = await _unit_of_work(request, endpoint)
            if request.method not in TAGGED:
                return response
            return _with_etag(request, response)

        return handler
