"""`td.events`: the log read page by page, and followed live, through a real server restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.api import create_identity, send_mail, wait_for
from tests.support.live import LiveServer, free_port, start_server
from tests.support.process import ServerProcess, serve_process
from tidings import (
    AsyncTidings,
    Event,
    MessageDeliveredEvent,
    MessageReceivedEvent,
    NotFoundError,
    RetryOptions,
    Tidings,
    ValidationError,
)

FAST_STREAM = {"TIDINGS_STREAM_HEARTBEAT_SECONDS": "0.2", "TIDINGS_STREAM_POLL_SECONDS": "0.05"}


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with start_server(
        database_url=database_url,
        data_dir=tmp_path / "data",
        stream_heartbeat_seconds=0.3,
        stream_poll_seconds=0.05,
    ) as server:
        yield server


def subjects(events: list[Event]) -> list[str]:
    return [e.data.message.subject for e in events if isinstance(e, MessageReceivedEvent)]


def test_list_reads_the_log_oldest_first_with_filters_after_and_every_page(
    live: LiveServer,
) -> None:
    with live.client() as api, Tidings(live.root_key, base_url=live.base_url) as td:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        for n in range(3):
            send_mail(api, ana, [bob], f"note {n}")
        everything = wait_for(lambda: len(found := list(td.events.list())) == 6 and found)
        ids = [e.id for e in everything]

        first = td.events.list(limit=4)
        assert [e.id for e in first.data] == ids[:4]
        assert first.has_more
        assert [e.id for e in td.events.list(limit=4)] == ids  # iterating walks every page
        received = list(td.events.list(types=["message.received"], limit=2))
        assert all(isinstance(e, MessageReceivedEvent) for e in received)
        assert subjects(received) == ["note 0", "note 1", "note 2"]
        assert [e.id for e in td.events.list(after=ids[1])] == ids[2:]
        assert td.events.list(after=ids[-1]).data == []
        sent_by_ana = list(td.events.list(mailbox=ana, types="message.delivered"))
        assert len(sent_by_ana) == 3
        assert all(isinstance(e, MessageDeliveredEvent) for e in sent_by_ana)
        assert {e.type for e in td.events.list(mailbox=bob)} == {"message.received"}
        with pytest.raises(ValidationError) as unknown:
            td.events.list(types=["message.recieved"])
        assert unknown.value.code == "unknown_event_type"


async def test_async_list_walks_the_same_log(live: LiveServer) -> None:
    with live.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        for n in range(2):
            send_mail(api, ana, [bob], f"note {n}")
        wait_for(lambda: len(api.get("/v1/events").json()["data"]) == 4)
    async with AsyncTidings(live.root_key, base_url=live.base_url) as td:
        page = await td.events.list(limit=3)
        assert page.has_more
        walked = [e async for e in page]
        assert len(walked) == 4
        after = await td.events.list(after=walked[1].id, types=["message.received"])
        assert subjects(after.data) == ["note 1"]


def test_the_stream_yields_typed_events_as_mail_is_sent(live: LiveServer) -> None:
    with Tidings(live.root_key, base_url=live.base_url) as td:
        ana = td.identities.create("ana").email_address
        bob = td.identities.create("bob").email_address
        with td.events.stream() as stream:
            # Characters JSON leaves raw that other line splitters would break a line at.
            sent = td.messages.send(
                ana, to=[bob], subject="Live", body_text="one\u2028two\x85three",
                correlation_id="job-7",
            )  # fmt: skip
            found = [next(stream), next(stream)]
        assert sent.correlation_id == "job-7"
        [received] = [e for e in found if isinstance(e, MessageReceivedEvent)]
        [delivered] = [e for e in found if isinstance(e, MessageDeliveredEvent)]
        assert received.data.message.subject == "Live"
        assert "one\u2028two\x85three" in (received.data.message.body_text or "")
        assert delivered.data.message.id == sent.id
        assert delivered.data.correlation_id == "job-7"
        assert [e.id for e in found] == [e.id for e in td.events.list()]


async def test_the_async_stream_yields_typed_events_and_filters(live: LiveServer) -> None:
    async with AsyncTidings(live.root_key, base_url=live.base_url) as td:
        ana = (await td.identities.create("ana")).email_address
        bob = (await td.identities.create("bob")).email_address
        async with td.events.stream(types=["message.received"], mailbox=bob) as stream:
            await td.messages.send(ana, to=[bob], subject="for bob", body_text="x")
            await td.messages.send(bob, to=[ana], subject="not for bob", body_text="x")
            await td.messages.send(ana, to=[bob], subject="for bob again", body_text="x")
            found = [await anext(stream), await anext(stream)]
        assert subjects(found) == ["for bob", "for bob again"]


def test_a_bad_filter_or_key_raises_when_the_stream_is_opened(live: LiveServer) -> None:
    with Tidings(live.root_key, base_url=live.base_url) as td:
        with pytest.raises(NotFoundError):
            td.events.stream(mailbox="nobody@agents.localhost")
        with pytest.raises(ValidationError) as unknown:
            td.events.stream(types=["message.recieved"])
        assert unknown.value.param == "types"


async def test_a_bad_filter_raises_when_the_async_stream_is_entered(live: LiveServer) -> None:
    async with AsyncTidings(live.root_key, base_url=live.base_url) as td:
        with pytest.raises(NotFoundError):
            async with td.events.stream(mailbox="nobody@agents.localhost"):
                pass


def test_the_stream_resumes_after_a_server_restart_with_nothing_lost_or_repeated(
    database_url: str, tmp_path: Path
) -> None:
    serve = restartable(database_url, tmp_path)
    reconnecting, resume = threading.Event(), threading.Event()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        reconnecting.set()
        resume.wait(60)  # hold the reconnection until mail was sent while the client was away

    seen: list[Event] = []

    def consume(stream: Iterator[Event]) -> None:
        for event in stream:
            seen.append(event)
            if len(seen) == 6:
                return

    with serve() as first, first.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        td = Tidings(first.root_key, base_url=first.base_url, retry=RetryOptions(sleep=sleep))
        stream = td.events.stream()
        consumer = threading.Thread(target=consume, args=(stream,))
        consumer.start()
        send_mail(api, ana, [bob], "before")
        wait_for(lambda: len(seen) == 2)
        assert first.stop() == 0  # shutting down ends the stream: the client reconnects
        assert reconnecting.wait(30)
    with serve() as second, second.client() as api, td, stream:
        send_mail(api, ana, [bob], "while away 1")
        send_mail(api, ana, [bob], "while away 2")
        logged = wait_for(lambda: len(found := api.get("/v1/events").json()["data"]) == 6 and found)
        resume.set()
        consumer.join(30)
    assert [e.id for e in seen] == [e["id"] for e in logged]
    assert subjects(seen) == ["before", "while away 1", "while away 2"]
    assert len(waits) == 1  # one pause, then straight back in with Last-Event-ID


async def test_the_async_stream_resumes_after_a_server_restart(
    database_url: str, tmp_path: Path
) -> None:
    serve = restartable(database_url, tmp_path)
    reconnecting, resume = asyncio.Event(), asyncio.Event()

    async def sleep(seconds: float) -> None:
        reconnecting.set()
        await resume.wait()

    seen: list[Event] = []

    async def consume(stream: AsyncIterator[Event]) -> None:
        async for event in stream:
            seen.append(event)
            if len(seen) == 4:
                return

    with ExitStack() as servers:
        first = await asyncio.to_thread(servers.enter_context, serve())
        api = servers.enter_context(first.client())
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        retry = RetryOptions(sleep=sleep)
        async with (
            AsyncTidings(first.root_key, base_url=first.base_url, retry=retry) as td,
            td.events.stream(types=["message.received"]) as stream,
        ):
            consumer = asyncio.create_task(consume(stream))
            send_mail(api, ana, [bob], "before")
            await until(lambda: len(seen) == 1)
            assert await asyncio.to_thread(first.stop) == 0
            await asyncio.wait_for(reconnecting.wait(), 30)
            second = await asyncio.to_thread(servers.enter_context, serve())
            api = servers.enter_context(second.client())
            for n in range(3):
                send_mail(api, ana, [bob], f"while away {n}")
            resume.set()
            await asyncio.wait_for(consumer, 30)
    assert subjects(seen) == ["before", "while away 0", "while away 1", "while away 2"]
    assert len({e.id for e in seen}) == 4


def restartable(database_url: str, tmp_path: Path) -> Callable[[], ContextManager[ServerProcess]]:
    """`tidings serve` on one data dir and port, so each start is the same server again."""
    data_dir, port = tmp_path / "data", free_port()

    def serve() -> ContextManager[ServerProcess]:
        return serve_process(data_dir, database_url=database_url, env=FAST_STREAM, port=port)

    return serve


async def until(check: Callable[[], bool], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)
