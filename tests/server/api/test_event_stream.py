"""Following events live: SSE at /v1/events/stream and the WebSocket at /v1/events/ws."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.api import create_agent_key, create_identity, send_mail
from tests.support.live import LiveServer, start_server


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with start_server(
        database_url=database_url,
        data_dir=tmp_path / "data",
        stream_heartbeat_seconds=0.3,
        stream_poll_seconds=0.05,
    ) as server:
        yield server


def sse_messages(response: httpx2.Response) -> Iterator[dict[str, str]]:
    """Each server-sent message as {field: value}; comment lines come as {"comment": ...}."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if fields:
                yield fields
            fields = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def next_events(messages: Iterator[dict[str, str]], count: int) -> list[dict[str, str]]:
    found = []
    for message in messages:
        if "id" in message:
            found.append(message)
            if len(found) == count:
                return found
    raise AssertionError("the stream ended early")


def test_the_stream_sends_new_events_with_ids_and_resumes_after_last_event_id(
    live: LiveServer,
) -> None:
    with live.client() as api, live.client() as watcher:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        with watcher.stream("GET", "/v1/events/stream") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            send_mail(api, ana, [bob], "first")
            first = next_events(sse_messages(stream), 2)
        assert {m["event"] for m in first} == {"message.delivered", "message.received"}
        for message in first:
            body = json.loads(message["data"])
            assert body["id"] == message["id"]
            assert body["type"] == message["event"]
        send_mail(api, ana, [bob], "second")  # while nobody listens
        with watcher.stream(
            "GET", "/v1/events/stream", headers={"Last-Event-ID": first[-1]["id"]}
        ) as again:
            missed = next_events(sse_messages(again), 2)
        subjects = {json.loads(m["data"])["data"]["message"]["subject"] for m in missed}
        assert subjects == {"second"}


def test_the_stream_filters_and_beats_while_idle(live: LiveServer) -> None:
    with live.client() as api, live.client() as watcher:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        params = {"types": "message.received", "mailbox": bob}
        with watcher.stream("GET", "/v1/events/stream", params=params) as stream:
            messages = sse_messages(stream)
            assert next(m for m in messages if "comment" in m) == {"comment": "heartbeat"}
            send_mail(api, ana, [bob], "only the received one")
            send_mail(api, bob, [ana], "not this one either")
            send_mail(api, ana, [bob], "and this")
            found = next_events(messages, 2)
        assert [m["event"] for m in found] == ["message.received"] * 2
        assert [json.loads(m["data"])["data"]["message"]["subject"] for m in found] == [
            "only the received one",
            "and this",
        ]


def test_an_agent_key_streams_only_its_identitys_events(live: LiveServer) -> None:
    with live.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        carol = create_identity(api, "carol")
        with live.client(create_agent_key(api, "bob")) as as_bob:
            with as_bob.stream("GET", "/v1/events/stream") as stream:
                send_mail(api, ana, [carol], "not for bob")
                send_mail(api, ana, [bob], "for bob")
                [only] = next_events(sse_messages(stream), 1)
            assert json.loads(only["data"])["data"]["message"]["subject"] == "for bob"
            assert as_bob.get("/v1/events/stream", params={"mailbox": ana}).status_code == 404


def socket_url(live: LiveServer) -> str:
    return live.base_url.replace("http://", "ws://") + "/v1/events/ws"


def receive(socket: Any, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(socket.recv(timeout=10))
        if message["kind"] == kind:
            return dict(message)
        assert message["kind"] == "heartbeat", message


def test_the_websocket_subscribes_forwards_and_unsubscribes(live: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {live.root_key}"}
    with live.client() as api, connect(socket_url(live), additional_headers=auth) as socket:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        socket.send(json.dumps({"action": "subscribe", "types": ["message.received"]}))
        assert receive(socket, "subscribed")["types"] == ["message.received"]
        send_mail(api, ana, [bob], "over the socket")
        event = receive(socket, "event")["event"]
        assert event["type"] == "message.received"
        assert event["data"]["message"]["subject"] == "over the socket"

        socket.send(json.dumps({"action": "unsubscribe"}))
        receive(socket, "unsubscribed")
        send_mail(api, ana, [bob], "nobody is listening")
        # Resubscribing from the last event seen picks up exactly what came since.
        socket.send(json.dumps({"action": "subscribe", "after": event["id"], "mailbox": bob}))
        receive(socket, "subscribed")
        assert receive(socket, "event")["event"]["data"]["message"]["subject"] == (
            "nobody is listening"
        )

        socket.send(json.dumps({"action": "dance"}))
        assert receive(socket, "error")["error"]["code"] == "invalid_message"
        socket.send(json.dumps({"action": "subscribe", "types": ["nope"]}))
        assert receive(socket, "error")["error"]["code"] == "unknown_event_type"


def test_the_websocket_refuses_a_bad_key(live: LiveServer) -> None:
    auth = {"Authorization": "Bearer td_root_nonsense"}
    with connect(socket_url(live), additional_headers=auth) as socket:
        error = json.loads(socket.recv(timeout=10))
        assert error["kind"] == "error"
        assert error["error"]["code"] == "malformed_api_key"
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
