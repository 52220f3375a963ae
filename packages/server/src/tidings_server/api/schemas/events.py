"""Events as the API shows them: the same `{id, type, timestamp, data}` webhooks receive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tidings_server.events.wire import event_dict
from tidings_server.store.models import Event


class EventView(BaseModel):
    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventView:
        return cls.model_validate(event_dict(event))


class EventType(BaseModel):
    type: str
    description: str


class EventTypeList(BaseModel):
    data: list[EventType]
