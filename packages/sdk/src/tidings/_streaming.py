"""Following `GET /v1/events/stream`: typed events, resumed after a drop with nothing missed.

`Resumption` decides everything (what to ask for, what each chunk means, whether and when to
connect again); `EventStream` and `AsyncEventStream` only do the I/O, so they behave alike.
Resuming sends `Last-Event-ID`: the server continues right after the last event this stream
yielded, so an event is neither lost nor seen twice.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

import httpx2

from tidings._base_client import AsyncAPIClient, SyncAPIClient
from tidings._endpoints import Api, Request
from tidings._events import Event, parse_event
from tidings._exceptions import APIConnectionError, APIError, TidingsError
from tidings._retry import delay_for, should_retry_status
from tidings._sse import Comment, SSEDecoder

__all__ = ["AsyncEventStream", "EventStream", "Resumption"]

# Caught around each connection; anything else (a bug, a bad event) is not retried.
RESUMABLE = (APIConnectionError, APIError)


class Resumption:
    """The state one stream carries across its connections."""

    def __init__(
        self,
        params: Mapping[str, Any],
        *,
        reconnect: bool,
        max_reconnect_delay: float,
        read_timeout: float | None,
        client: SyncAPIClient | AsyncAPIClient,
    ) -> None:
        self.params = dict(params)
        self.reconnect = reconnect
        self.max_reconnect_delay = max_reconnect_delay
        self.read_timeout = read_timeout
        self.retry = client.retry
        self.last_event_id: str | None = None
        self.failures = 0  # reconnections since the stream last proved healthy
        self.server_retry: float | None = None  # the server's `retry:`, in seconds
        self.decoder = SSEDecoder()

    def request(self) -> Request:
        """The request for the next connection, which starts with a fresh decoder."""
        self.decoder = SSEDecoder()
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        return Api.STREAM_EVENTS.request(params=self.params, headers=headers)

    def feed(self, chunk: bytes) -> list[tuple[Event, str]]:
        """The events a chunk of the body completed, in order, each with its raw JSON."""
        events: list[tuple[Event, str]] = []
        for item in self.decoder.feed(chunk):
            # An event or a heartbeat shows the connection works: backoff starts over.
            self.failures = 0
            if isinstance(item, Comment) or not item.data:
                continue
            events.append((parse_event(item.data), item.data))
        # The standard resumes from the last `id:` field seen, even one sent without data.
        if self.decoder.last_id is not None:
            self.last_event_id = self.decoder.last_id
        if self.decoder.retry is not None:
            self.server_retry = self.decoder.retry
        return events

    def fails_at_once(self, error: TidingsError) -> bool:
        """Whether a failed first connection should raise from where the stream is made."""
        return not (self.reconnect and self.resumable(error))

    def resumable(self, error: TidingsError) -> bool:
        """A dropped or refused connection, a timeout, or an answer worth retrying (5xx,
        408, 429); any other 4xx will not get better by asking again."""
        if isinstance(error, APIError):
            return should_retry_status(error.status, error.code, error.retryable)
        return isinstance(error, APIConnectionError)

    def next_delay(self, error: TidingsError | None) -> float | None:
        """Seconds to wait before connecting again, None to end the stream (the server
        closed it and `reconnect` is off), or raise `error` when it cannot be resumed."""
        if error is not None and not (self.reconnect and self.resumable(error)):
            raise error
        if not self.reconnect:
            return None
        self.failures += 1
        # The server's `retry:` is the reconnection time the standard asks clients to use;
        # each further failure in a row doubles it (with jitter), up to the cap.
        base = self.server_retry if self.server_retry is not None else self.retry.initial_delay
        policy = replace(
            self.retry,
            initial_delay=min(base, self.max_reconnect_delay),
            max_delay=self.max_reconnect_delay,
        )
        hints = error.headers if isinstance(error, APIError) else {}
        wait = delay_for(policy, self.failures, hints)
        if wait is None:
            assert error is not None  # only a server's hint can ask for more than a minute
            raise error
        return wait


class EventStream:
    """Typed events as they happen, for as long as you iterate.

    It connects when made, so every event from that moment on is seen (or from just after
    `after=`). Close it, or use it in a `with` block, to hang up.
    """

    def __init__(self, client: SyncAPIClient, plan: Resumption) -> None:
        self._client = client
        self._plan = plan
        self.last_event_json: str | None = None
        """The last event's JSON exactly as the server sent it: what a webhook's body is."""
        self._first = self._connect()
        if isinstance(self._first, TidingsError) and plan.fails_at_once(self._first):
            raise self._first  # a bad key or filter fails here, not at the first event
        self._events = self._follow(self._first)

    def _connect(self) -> httpx2.Response | TidingsError:
        try:
            return self._client.open_stream(
                self._plan.request(), read_timeout=self._plan.read_timeout
            )
        except RESUMABLE as error:
            return error

    def _follow(self, opened: httpx2.Response | TidingsError) -> Generator[Event, None, None]:
        while True:
            failure: TidingsError | None = None
            if isinstance(opened, TidingsError):
                failure = opened
            else:
                try:
                    for chunk in self._client.iter_bytes(opened):
                        for event, raw in self._plan.feed(chunk):
                            self.last_event_json = raw
                            yield event
                except RESUMABLE as error:
                    failure = error
                finally:
                    opened.close()
            wait = self._plan.next_delay(failure)
            if wait is None:
                return
            self._client.pause(wait)
            opened = self._connect()

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        """Hang up. Safe to call more than once, and from a `finally`."""
        self._events.close()
        if isinstance(self._first, httpx2.Response):
            self._first.close()  # the generator never ran, so never closed it

    def __enter__(self) -> EventStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncEventStream:
    """Typed events as they happen, for `async for`.

    It connects on `async with` (so events from then on are seen) or, without one, at the
    first iteration. Close it (`await stream.close()`) or leave the `async with` to hang up.
    """

    def __init__(self, client: AsyncAPIClient, plan: Resumption) -> None:
        self._client = client
        self._plan = plan
        self.last_event_json: str | None = None
        """The last event's JSON exactly as the server sent it: what a webhook's body is."""
        self._first: httpx2.Response | TidingsError | None = None
        self._events: AsyncGenerator[Event, None] | None = None

    async def _start(self) -> AsyncGenerator[Event, None]:
        if self._events is None:
            self._first = await self._connect()
            if isinstance(self._first, TidingsError) and self._plan.fails_at_once(self._first):
                raise self._first
            self._events = self._follow(self._first)
        return self._events

    async def _connect(self) -> httpx2.Response | TidingsError:
        try:
            return await self._client.open_stream(
                self._plan.request(), read_timeout=self._plan.read_timeout
            )
        except RESUMABLE as error:
            return error

    async def _follow(self, opened: httpx2.Response | TidingsError) -> AsyncGenerator[Event, None]:
        while True:
            failure: TidingsError | None = None
            if isinstance(opened, TidingsError):
                failure = opened
            else:
                try:
                    async for chunk in self._client.iter_bytes(opened):
                        for event, raw in self._plan.feed(chunk):
                            self.last_event_json = raw
                            yield event
                except RESUMABLE as error:
                    failure = error
                finally:
                    await opened.aclose()
            wait = self._plan.next_delay(failure)
            if wait is None:
                return
            await self._client.pause(wait)
            opened = await self._connect()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        events = await self._start()
        return await events.__anext__()

    async def close(self) -> None:
        """Hang up. Safe to call more than once, and from a `finally`."""
        if self._events is not None:
            await self._events.aclose()
        if isinstance(self._first, httpx2.Response):
            await self._first.aclose()

    async def __aenter__(self) -> AsyncEventStream:
        await self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
