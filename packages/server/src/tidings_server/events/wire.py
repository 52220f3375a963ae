"""An event as every consumer receives it: `{id, type, timestamp, data}`, one shape everywhere.

Webhooks, the stream, the WebSocket and `GET /v1/events` all use this, so a receiver can
handle an event the same way whichever path brought it.
"""

from __future__ import annotations

import json
from typing import Any

from tidings_server.store.models import Event


def event_dict(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }


def event_json(event: Event) -> bytes:
    return json.dumps(event_dict(event), separators=(",", ":"), ensure_ascii=False).encode()
