"""The event stream against awkward but legal SSE from a real loopback server: 503s, fields
split over lines and chunks, CRLF, comments, a connection cut mid-message, then a 401."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sdk.scripted_sse import Answer, scripted_sse
from tidings import (
    APIConnectionError,
    AsyncTidings,
    AuthenticationError,
    Event,
    InternalServerError,
    RetryOptions,
    Tidings,
)


def event(n: int, **data: Any) -> bytes:
    body = {"id": f"evt_{n}", "type": "custom.thing", "timestamp": "2025-01-01T00:00:00Z"}
    return json.dumps({**body, "data": data}, ensure_ascii=False).encode()


def message(n: int, **data: Any) -> bytes:
    return b"id: evt_%d\nevent: custom.thing\ndata: %s\n\n" % (n, event(n, **data))


UNAVAILABLE = Answer(503, (b'{"error":{"code":"unavailable","message":"restarting"}}',))
REVOKED = Answer(401, (b'{"error":{"code":"api_key_revoked","message":"revoked"}}',))
AWKWARD = (
    Answer(503, UNAVAILABLE.chunks, headers={"retry-after": "0"}),
    Answer(
        200,
        (
            b"retry: 10\r\n\r\n: heartbeat\r\n\r\n",
            # One event over two data lines (joined with a newline), CRLF, split mid-line and
            # between CR and LF; U+2028 inside is not a line break.
            b'id: evt_1\r\nevent: custom.thing\r\ndata: {"id":"evt_1","type":"custom.thing",\r\n',
            b'data: "timestamp":"2025-01-01T00:00:00Z","data":{"text":"a\xe2\x80\xa8b"}}\r',
            b"\n\r\n",
            b'id: evt_2\ndata: {"id":"evt_2"',  # cut off here: never dispatched
        ),
        drop=True,
    ),
    # An id without data moves the resume point but yields nothing; then a clean end.
    Answer(200, (message(3), b"id: evt_4\n\n")),
    REVOKED,
)


def test_the_stream_resumes_after_the_last_whole_event_and_stops_at_a_4xx() -> None:
    waits: list[float] = []
    with (
        scripted_sse(*AWKWARD) as script,
        Tidings("td_root_x", base_url=script.url, retry=RetryOptions(sleep=waits.append)) as td,
        td.events.stream(types=["custom.thing"]) as stream,
    ):
        first = next(stream)
        assert type(first) is Event
        assert first.data == {"text": "a\u2028b"}
        assert json.loads(stream.last_event_json or "")["id"] == "evt_1"
        assert next(stream).id == "evt_3"
        with pytest.raises(AuthenticationError) as revoked:
            next(stream)
    assert revoked.value.code == "api_key_revoked"
    assert [r.get("last-event-id") for r in script.requests] == [None, None, "evt_1", "evt_4"]
    assert {r["accept"] for r in script.requests} == {"text/event-stream"}
    assert {r["authorization"] for r in script.requests} == {"Bearer td_root_x"}
    assert {r[":path"] for r in script.requests} == {"/v1/events/stream?types=custom.thing"}
    # Retry-After: 0 first; then the server's `retry: 10` (ms), with jitter, each time the
    # connection had worked (an event or heartbeat resets the backoff).
    assert waits[0] == 0
    assert all(0.0075 <= w <= 0.01 for w in waits[1:])
    assert len(waits) == 3


async def test_the_async_stream_resumes_the_same_way() -> None:
    waits: list[float] = []
    with scripted_sse(*AWKWARD) as script:
        retry = RetryOptions(sleep=waits.append)
        async with AsyncTidings("td_root_x", base_url=script.url, retry=retry) as td:
            stream = td.events.stream()
            try:
                assert [(await anext(stream)).id, (await anext(stream)).id] == ["evt_1", "evt_3"]
                with pytest.raises(AuthenticationError):
                    await anext(stream)
            finally:
                await stream.close()
    assert [r.get("last-event-id") for r in script.requests] == [None, None, "evt_1", "evt_4"]
    assert len(waits) == 3


def test_backoff_grows_with_each_failure_in_a_row_up_to_the_cap() -> None:
    waits: list[float] = []
    answers = [UNAVAILABLE] * 5 + [Answer(200, (message(1),))]
    with (
        scripted_sse(*answers) as script,
        Tidings("td_root_x", base_url=script.url, retry=RetryOptions(sleep=waits.append)) as td,
        td.events.stream(max_reconnect_delay=1.0) as stream,
    ):
        assert next(stream).id == "evt_1"
    # 0.5 s doubling, each cut by up to a quarter for jitter, never above the cap.
    assert len(waits) == 5
    assert 0.375 <= waits[0] <= 0.5
    assert all(0.75 <= w <= 1.0 for w in waits[1:])


def test_without_reconnect_the_stream_ends_with_the_server_or_raises() -> None:
    with (
        scripted_sse(Answer(200, (message(1), message(2)))) as script,
        Tidings("td_root_x", base_url=script.url) as td,
    ):
        with td.events.stream(reconnect=False) as stream:
            # Two events in one chunk: each one's raw JSON is current while it is handled.
            raws = [(e.id, json.loads(stream.last_event_json or "")["id"]) for e in stream]
            assert raws == [("evt_1", "evt_1"), ("evt_2", "evt_2")]
        assert len(script.requests) == 1

    with (
        scripted_sse(Answer(200, (message(1),), drop=True)) as script,
        Tidings("td_root_x", base_url=script.url) as td,
    ):
        stream = td.events.stream(reconnect=False)
        assert next(stream).id == "evt_1"
        with pytest.raises(APIConnectionError):
            next(stream)
        stream.close()

    with (
        scripted_sse(UNAVAILABLE) as script,
        Tidings("td_root_x", base_url=script.url) as td,
        pytest.raises(InternalServerError),
    ):
        td.events.stream(reconnect=False)
