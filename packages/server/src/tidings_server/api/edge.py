"""What happens at the edge of every HTTP request, as one pure ASGI middleware.

It gives the request its id (`X-Request-Id`), refuses bodies over the size limit with 413
and bodies that are not JSON with 415 (a body without Content-Type is read as JSON), adds
the caller's rate-limit headers, turns any unhandled exception into a 500 envelope, and
records request metrics.
"""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidings_server import ids
from tidings_server.api.envelope import error_body
from tidings_server.api.metrics import Metrics
from tidings_server.errors import (
    InternalError,
    PayloadTooLarge,
    TidingsError,
    UnsupportedMediaType,
)

log = logging.getLogger("tidings.api")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than {limit} bytes.",
        param="body",
        fix=f"Send at most {limit} bytes; upload large content in several requests.",
    )


class Edge:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ids.new_id("req")
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                limit = state.get("rate_limit")
                if limit is not None:
                    headers.extend(limit.header_pairs())
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await self._send_error(
                    send_with_headers, _too_large(self.max_body_bytes), request_id
                )
                return
            refusal = _check_media_type(scope)
            if refusal is not None:
                await self._send_error(send_with_headers, refusal, request_id)
                return
            await self.app(scope, self._limited(receive), send_with_headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if not response_started:
                error = InternalError("Something went wrong on our side; nothing was changed.")
                await self._send_error(send_with_headers, error, request_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], path, status, time.perf_counter() - started)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body_bytes

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(limit)
            return message

        return counting

    @staticmethod
    async def _send_error(send: Send, error: TidingsError, request_id: str) -> None:
        body = json.dumps(error_body(error, request_id)).encode()
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        headers.extend((k.lower().encode(), v.encode()) for k, v in error.headers.items())
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    return int(value) if value is not None and value.isdigit() else None


def _check_media_type(scope: Scope) -> UnsupportedMediaType | None:
    """Default a missing Content-Type to JSON (in place); refuse any other media type."""
    if scope["method"] not in BODY_METHODS:
        return None
    content_type = _header(scope, b"content-type")
    if content_type is None:
        scope["headers"] = [*scope.get("headers", []), (b"content-type", b"application/json")]
        return None
    media = content_type.split(b";")[0].strip().lower()
    if media == b"application/json" or media.endswith(b"+json"):
        return None
    if _content_length(scope) == 0:
        return None
    return UnsupportedMediaType(
        f"Request bodies are JSON; got Content-Type {media.decode('latin-1')!r}.",
        param="Content-Type",
    )
