"""/v1/events: the event log, polled with a cursor, streamed as SSE, or followed over a WebSocket.

An agent key sees only its own identity's events; filters narrow by type and mailbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from tidings_server.api.deps import Caller, Mailboxes, RuntimeDep
from tidings_server.api.envelope import error_body
from tidings_server.api.following import Follower
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.route import authenticate
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.events import EventType, EventTypeList, EventView
from tidings_server.directory.mailboxes import MailboxService
from tidings_server.errors import BadRequest, TidingsError
from tidings_server.events.log import CATALOGUE
from tidings_server.events.reading import EventFilter, EventReader
from tidings_server.events.wire import event_dict, event_json

router = v1_router("/events", "events")
socket_router = APIRouter(tags=["events"])

Types = Annotated[
    list[str],
    Query(description="Event types to include, repeated or comma-separated; all if left out."),
]
MailboxParam = Annotated[
    str | None, Query(description="Only events of this mailbox (address or id).")
]
After = Annotated[
    str | None, Query(description="Start after this event id (evt_...).", max_length=64)
]


async def _filter(mailboxes: MailboxService, types: list[str], mailbox: str | None) -> EventFilter:
    mailbox_id = (await mailboxes.get(mailbox)).id if mailbox else None
    return EventFilter.of(types, mailbox_id)


@router.get("")
async def list_events(
    request: Request,
    caller: Caller,
    paging: Paging,
    mailboxes: Mailboxes,
    after: After = None,
    types: Types = [],  # noqa: B006 (FastAPI copies defaults per request)
    mailbox: MailboxParam = None,
) -> ListResponse[EventView]:
    """The log oldest first. Poll by passing the last event's id as `after` (or the cursor)."""
    wanted = await _filter(mailboxes, types, mailbox)
    reader = EventReader(request.state.session, caller)
    position = paging.position
    start = int(position) if position else await reader.position_after(after, default_to_end=False)
    events = await reader.after(start, wanted, limit=paging.limit + 1)
    page = events[: paging.limit]
    return paging.respond_from(
        [EventView.of(e) for e in page],
        position=str(page[-1].seq) if page else None,
        has_more=len(events) > paging.limit,
    )


@router.get("/types")
async def list_event_types() -> EventTypeList:
    """The catalogue: every event type, what it means. Subscriptions and filters use these."""
    return EventTypeList(
        data=[EventType(type=name, description=text) for name, text in CATALOGUE.items()]
    )


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    runtime: RuntimeDep,
    caller: Caller,
    mailboxes: Mailboxes,
    after: After = None,
    types: Types = [],  # noqa: B006
    mailbox: MailboxParam = None,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    """Server-sent events as they commit: `id:` is the event id, `event:` its type.

    Reconnect with `Last-Event-ID` (or `after`) to resume with nothing missed; without
    either the stream starts at the end of the log. A comment line is sent as a heartbeat
    when nothing happened for `stream_heartbeat_seconds`.
    """
    wanted = await _filter(mailboxes, types, mailbox)
    reader = EventReader(request.state.session, caller)
    start = await reader.position_after(last_event_id or after, default_to_end=True)
    follower = Follower(runtime, caller, wanted, start, request.app.state.stopping)

    async def body() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        async for batch in follower.batches(request.is_disconnected):
            if not batch:
                yield b": heartbeat\n\n"
            for event in batch:
                yield b"id: %s\nevent: %s\ndata: %s\n\n" % (
                    event.id.encode(),
                    event.type.encode(),
                    event_json(event),
                )

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@socket_router.websocket("/v1/events/ws")
async def events_socket(socket: WebSocket) -> None:
    """Follow events over a WebSocket; see docs/events.md for the message protocol."""
    await socket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        await _SocketSession(socket).run()


class _SocketSession:
    """One WebSocket: at most one subscription at a time, replaced by each `subscribe`."""

    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket
        self.follower: Follower | None = None
        self.changed = asyncio.Event()
        self.sending = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.sending:
            await self.socket.send_text(json.dumps(message, separators=(",", ":")))

    async def run(self) -> None:
        try:
            self.principal = await authenticate(self.socket)
        except TidingsError as error:
            await self.send({"kind": "error", **error_body(error, None)})
            await self.socket.close(code=1008)
            return
        self.runtime = self.socket.app.state.runtime
        self.stopping: asyncio.Event = self.socket.app.state.stopping
        tasks = [asyncio.ensure_future(self._receive()), asyncio.ensure_future(self._forward())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await task
        if self.stopping.is_set():
            await self.socket.close(code=1001)

    async def _receive(self) -> None:
        while True:
            message = await self.socket.receive_json()
            try:
                await self._handle(message)
            except TidingsError as error:
                await self.send({"kind": "error", **error_body(error, None)})

    async def _handle(self, message: Any) -> None:
        action = message.get("action") if isinstance(message, dict) else None
        if action == "unsubscribe":
            self.follower = None
            self.changed.set()
            await self.send({"kind": "unsubscribed"})
            return
        if action != "subscribe":
            raise BadRequest(
                "Each message must be a JSON object with `action`: subscribe or unsubscribe.",
                code="invalid_message",
                param="action",
            )
        types, mailbox, after = (
            message.get("types", []),
            message.get("mailbox"),
            message.get("after"),
        )
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise BadRequest("`types` must be a list of event types.", param="types")
        async with self.runtime.reads() as db:
            mailboxes = MailboxService(db, self.principal, self.runtime.clock)
            wanted = await _filter(mailboxes, types, mailbox if isinstance(mailbox, str) else None)
            start = await EventReader(db, self.principal).position_after(
                after if isinstance(after, str) else None, default_to_end=True
            )
        self.follower = Follower(self.runtime, self.principal, wanted, start, self.stopping)
        self.changed.set()
        await self.send(
            {"kind": "subscribed", "types": list(wanted.types), "mailbox": wanted.mailbox_id}
        )

    async def _forward(self) -> None:
        while not self.stopping.is_set():
            follower = self.follower
            self.changed.clear()
            if follower is None:
                await _first(self.changed.wait(), self.stopping.wait())
                continue

            async def replaced(current: Follower = follower) -> bool:
                return self.follower is not current

            async for batch in follower.batches(replaced, wake=self.changed):
                if not batch:
                    await self.send({"kind": "heartbeat"})
                for event in batch:
                    await self.send({"kind": "event", "event": event_dict(event)})


async def _first(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
