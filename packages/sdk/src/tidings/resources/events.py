"""`td.events`: the event log, read page by page (`list`) or followed live (`stream`).

Both give the same typed events webhooks receive (`parse_event`), oldest first.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from tidings._endpoints import Api, Request
from tidings._events import Event, parse_event
from tidings._models import EventType
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings._streaming import AsyncEventStream, EventStream, Resumption
from tidings.resources._shared import AsyncResource, SyncResource, page_params

DEFAULT_MAX_RECONNECT_DELAY = 30.0
# Well over the server's 15 s heartbeat: a silent, half-dead connection is noticed (and
# resumed without loss) within a minute, while a quiet but healthy one is left alone.
DEFAULT_READ_TIMEOUT = 60.0


def _filters(
    types: Sequence[str] | str | None, mailbox: str | None, after: str | None
) -> dict[str, Any]:
    # The server takes types comma-separated; a lone string is one type (or a list already).
    wanted = [types] if isinstance(types, str) else list(types or ())
    return {
        k: v
        for k, v in {"types": ",".join(wanted), "mailbox": mailbox, "after": after}.items()
        if v
    }


def _list(
    after: str | None,
    types: Sequence[str] | str | None,
    mailbox: str | None,
    limit: int | None,
    cursor: str | None,
) -> Request:
    params = page_params(limit, cursor, **_filters(types, mailbox, after))
    return Api.LIST_EVENTS.request(params=params)


class Events(SyncResource):
    def list(
        self,
        *,
        after: str | None = None,
        types: Sequence[str] | str | None = None,
        mailbox: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> SyncPage[Event]:
        """The log oldest first: from the beginning, or after the event id `after`.

        To poll, pass the last event you handled as `after`. `types` and `mailbox`
        (address or id) narrow it; iterating the page walks every page.
        """
        return self._parsed_page(_list(after, types, mailbox, limit, cursor), Event, parse_event)

    def types(self) -> builtins.list[EventType]:
        """The catalogue: every event type the server emits, and what it means."""
        return self._items(Api.LIST_EVENT_TYPES.request(), EventType)

    def stream(
        self,
        *,
        types: Sequence[str] | str | None = None,
        mailbox: str | None = None,
        after: str | None = None,
        reconnect: bool = True,
        max_reconnect_delay: float = DEFAULT_MAX_RECONNECT_DELAY,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
    ) -> EventStream:
        """Follow events live, from now on (or from just after the event id `after`).

        Connects at once: a bad key or filter raises its error here. A dropped connection
        or a 5xx is resumed after the last event seen (backoff with jitter, up to
        `max_reconnect_delay` seconds); `reconnect=False` raises instead. Use it in a
        `with` block, or `close()` it, to hang up.
        """
        plan = Resumption(
            _filters(types, mailbox, after), reconnect=reconnect, client=self._client,
            max_reconnect_delay=max_reconnect_delay, read_timeout=read_timeout,
        )  # fmt: skip
        return EventStream(self._client, plan)


class AsyncEvents(AsyncResource):
    async def list(
        self,
        *,
        after: str | None = None,
        types: Sequence[str] | str | None = None,
        mailbox: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPage[Event]:
        """The log oldest first, after `after`; `async for` walks every page."""
        request = _list(after, types, mailbox, limit, cursor)
        return await self._parsed_page(request, Event, parse_event)

    async def types(self) -> builtins.list[EventType]:
        return await self._items(Api.LIST_EVENT_TYPES.request(), EventType)

    def stream(
        self,
        *,
        types: Sequence[str] | str | None = None,
        mailbox: str | None = None,
        after: str | None = None,
        reconnect: bool = True,
        max_reconnect_delay: float = DEFAULT_MAX_RECONNECT_DELAY,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
    ) -> AsyncEventStream:
        """Follow events live. It connects on `async with` (or at the first iteration):
        enter it before doing what causes the events you wait for, or pass `after`."""
        plan = Resumption(
            _filters(types, mailbox, after), reconnect=reconnect, client=self._client,
            max_reconnect_delay=max_reconnect_delay, read_timeout=read_timeout,
        )  # fmt: skip
        return AsyncEventStream(self._client, plan)


class EventsWithRawResponse:
    """`stream` is left out: a stream's answer is the events it yields, as they come."""

    def __init__(self, events: Events) -> None:
        self.list = raw(events.list)
        self.types = raw(events.types)


class AsyncEventsWithRawResponse:
    def __init__(self, events: AsyncEvents) -> None:
        self.list = araw(events.list)
        self.types = araw(events.types)
