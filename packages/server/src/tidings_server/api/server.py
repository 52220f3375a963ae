"""The uvicorn server Tidings runs under, in `tidings serve` and in tests alike.

uvicorn lets in-flight requests finish before it stops, but an event stream never finishes
on its own; so when shutdown begins the app's `stopping` event is set and streams end.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn


class Server(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app: Any = self.config.app
        stopping: asyncio.Event | None = getattr(getattr(app, "state", None), "stopping", None)
        if stopping is not None:
            stopping.set()
        await super().shutdown(sockets)
