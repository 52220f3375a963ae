"""Sending on SQLite: a send is built and its blobs stored before it takes the write connection."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from tidings_server.blobs.files import FileBlobStore
from tidings_server.clock import FakeClock
from tidings_server.directory.identities import IdentityService
from tidings_server.directory.keys import Principal
from tidings_server.mail.sending import MailSender, OutboundPolicy, Outgoing
from tidings_server.runtime import open_runtime
from tidings_server.settings import Settings
from tidings_server.store.models import Delivery, Message


class HeldBlobs(FileBlobStore):
    """Blob writes that wait until released, to catch a send in the middle of storing."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.storing = asyncio.Event()
        self.release = asyncio.Event()

    async def put(self, data: bytes) -> str:
        self.storing.set()
        await self.release.wait()
        return await super().put(data)


async def test_other_writers_go_on_while_a_send_stores_its_message(tmp_path: Path) -> None:
    """SQLite has one write connection per process: every send, claim and settle waits for
    it, so a send must not hold it through building the message and fsyncing its blobs."""
    clock = FakeClock()
    settings = Settings(data_dir=tmp_path / "data", smtp="off", outbound="capture")
    async with open_runtime(settings, clock) as runtime:
        root = Principal(org_id=runtime.bootstrap.org_id, key_id="k", kind="root", identity_id=None)
        async with runtime.writes.begin() as session:
            await IdentityService(session, root, clock, domain="agents.localhost").create("bot")
        blobs = HeldBlobs(settings.blob_dir)
        policy = OutboundPolicy("agents.localhost", "capture", timedelta(days=5), "USD")

        async def send() -> str:
            async with runtime.writes.begin() as session:
                sender = MailSender(session, root, clock, blobs, policy, lookups=runtime.reads)
                message = await sender.send(
                    "bot@agents.localhost",
                    Outgoing(to=["ana@example.com"], subject="Hi", body_text="hello"),
                )
                return message.id

        sending = asyncio.create_task(send())
        try:
            await asyncio.wait_for(blobs.storing.wait(), 5)
            async with asyncio.timeout(2), runtime.writes.begin() as other:
                await other.execute(sa.text("UPDATE identities SET updated_at = updated_at"))
        finally:
            blobs.release.set()
        message_id = await asyncio.wait_for(sending, 5)

        async with runtime.reads() as session:
            stored = await session.get(Message, message_id)
            jobs = (await session.scalars(sa.select(Delivery.recipient))).all()
    assert stored is not None
    assert stored.status == "queued"
    assert jobs == ["ana@example.com"]
