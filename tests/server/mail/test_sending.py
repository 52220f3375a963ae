"""Sending on SQLite: a send is built and its blobs stored before it takes the write connection.

SQLite has one write connection per process, which every send, claim and settle waits for,
so a send (or a reply) must not hold it through lookups, building the message and fsyncing
its blobs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tidings_server.blobs.files import FileBlobStore
from tidings_server.clock import FakeClock
from tidings_server.directory.identities import IdentityService
from tidings_server.directory.keys import Principal
from tidings_server.mail.sending import MailSender, OutboundPolicy, Outgoing
from tidings_server.runtime import Runtime, open_runtime
from tidings_server.settings import Settings
from tidings_server.store.models import Delivery, Message

BOT = "bot@agents.localhost"
HELLO = Outgoing(to=["ana@example.com"], subject="Hi", body_text="hello")


class HeldBlobs(FileBlobStore):
    """Blob writes that wait while held, to catch a send in the middle of storing."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.storing = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def put(self, data: bytes) -> str:
        self.storing.set()
        await self.release.wait()
        return await super().put(data)


@dataclass
class Sending:
    runtime: Runtime
    blobs: HeldBlobs
    root: Principal

    async def with_sender(self, act: Callable[[MailSender], Awaitable[Message]]) -> str:
        """`act` in a write unit of work, with a sender as the API builds it on SQLite."""
        policy = OutboundPolicy("agents.localhost", "capture", timedelta(days=5), "USD")
        async with self.runtime.writes.begin() as session:
            sender = MailSender(
                session, self.root, self.runtime.clock, self.blobs, policy,
                lookups=self.runtime.reads,
            )  # fmt: skip
            return (await act(sender)).id


@pytest.fixture
async def sending(tmp_path: Path) -> AsyncIterator[Sending]:
    clock = FakeClock()
    settings = Settings(data_dir=tmp_path / "data", smtp="off", outbound="capture")
    async with open_runtime(settings, clock) as runtime:
        root = Principal(org_id=runtime.bootstrap.org_id, key_id="k", kind="root", identity_id=None)
        async with runtime.writes.begin() as session:
            await IdentityService(session, root, clock, domain="agents.localhost").create("bot")
        yield Sending(runtime, HeldBlobs(settings.blob_dir), root)


@asynccontextmanager
async def storing_held(blobs: HeldBlobs) -> AsyncIterator[None]:
    """Inside: blob writes wait. Leaving lets them go on, whatever happened inside."""
    blobs.storing.clear()
    blobs.release.clear()
    try:
        yield
    finally:
        blobs.release.set()


async def another_writer_goes_on(sending: Sending) -> None:
    await asyncio.wait_for(sending.blobs.storing.wait(), 5)
    async with asyncio.timeout(2), sending.runtime.writes.begin() as other:
        await other.execute(sa.text("UPDATE identities SET updated_at = updated_at"))


async def test_other_writers_go_on_while_a_send_stores_its_message(sending: Sending) -> None:
    async with storing_held(sending.blobs):
        sent = asyncio.create_task(sending.with_sender(lambda s: s.send(BOT, HELLO)))
        await another_writer_goes_on(sending)
    message_id = await asyncio.wait_for(sent, 5)

    async with sending.runtime.reads() as session:
        stored = await session.get(Message, message_id)
        jobs = (await session.scalars(sa.select(Delivery.recipient))).all()
    assert stored is not None
    assert stored.status == "queued"
    assert jobs == ["ana@example.com"]


async def test_other_writers_go_on_while_a_reply_stores_its_message(sending: Sending) -> None:
    first = await sending.with_sender(lambda s: s.send(BOT, HELLO))
    answer = Outgoing(to=[], subject="", body_text="and again")
    async with storing_held(sending.blobs):
        replied = asyncio.create_task(
            sending.with_sender(lambda s: s.reply(BOT, first, answer, to_all=False))
        )
        await another_writer_goes_on(sending)
    reply_id = await asyncio.wait_for(replied, 5)

    async with sending.runtime.reads() as session:
        reply = await session.get(Message, reply_id)
    assert reply is not None
    assert (reply.subject, [a["address"] for a in reply.to]) == ("Re: Hi", ["ana@example.com"])
