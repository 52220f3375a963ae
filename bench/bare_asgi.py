"""The reference for the API benchmark: a bare ASGI endpoint under the same uvicorn.

It answers a small JSON body and does nothing else, so the gap to it is what Tidings' own
work (auth, rate limit, database, serialisation) costs per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

BODY = b'{"data": [], "pagination": {"has_more": false, "next_cursor": null}}'


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
