"""The delivery worker: a worker that dies mid-delivery is replaced and nothing is lost; a
message's status comes from all of its recipients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.support.live import free_port
from tests.support.sink import smtp_sink
from tidings_server.background import delivery_worker
from tidings_server.clock import FakeClock
from tidings_server.directory.identities import IdentityService
from tidings_server.directory.keys import Principal
from tidings_server.mail.sending import MailSender, OutboundPolicy, Outgoing
from tidings_server.runtime import Runtime, open_runtime
from tidings_server.settings import Settings
from tidings_server.store.models import Delivery, Message


@asynccontextmanager
async def relaying(
    database_url: str, tmp_path: Path, clock: FakeClock, port: int
) -> AsyncIterator[Runtime]:
    """A runtime (no HTTP, no SMTP listener) relaying outside mail to 127.0.0.1:`port`, with
    an identity `bot` to send from."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        smtp="off",
        outbound=f"relay://127.0.0.1:{port}",
        delivery_lease_seconds=300,
    )
    async with open_runtime(settings, clock) as runtime:
        async with runtime.writes.begin() as session:
            await IdentityService(session, _root(runtime), clock, domain="agents.localhost").create(
                "bot"
            )
        yield runtime


def _root(runtime: Runtime) -> Principal:
    return Principal(org_id=runtime.bootstrap.org_id, key_id="k", kind="root", identity_id=None)


async def send(runtime: Runtime, to: Sequence[str], subject: str) -> Message:
    policy = OutboundPolicy("agents.localhost", "relay", lifetime=timedelta(days=5), currency="USD")
    async with runtime.writes.begin() as session:
        sender = MailSender(session, _root(runtime), runtime.clock, runtime.blobs, policy)
        outgoing = Outgoing(to=to, subject=subject, body_text="hello")
        return await sender.send("bot@agents.localhost", outgoing)


async def test_a_job_held_by_a_dead_worker_is_redelivered_after_its_lease(
    database_url: str, tmp_path: Path
) -> None:
    clock, port = FakeClock(), free_port()
    async with relaying(database_url, tmp_path, clock, port) as runtime:
        await send(runtime, ["ana@example.com"], "Once")
        with smtp_sink(port, tmp_path / "sink") as sink:
            dying, healthy = delivery_worker(runtime), delivery_worker(runtime)
            claimed = await dying.claim()  # ...and then the worker dies without delivering
            assert len(claimed) == 1
            assert await healthy.run_once() == 0  # the lease still holds
            clock.advance(301)
            assert await healthy.run_once() == 1
            assert len(sink.messages()) == 1
            async with runtime.reads() as session:
                status = await session.scalar(sa.select(Delivery.status))
            assert status == "sent"
            # Had the first worker only hung, not died, its late attempt would be the one
            # duplicate a crash may cause; its settle is ignored, since its lease is gone.
            await dying.deliver(claimed)
            assert len(sink.messages()) == 2
            async with runtime.reads() as session:
                job = await session.scalar(sa.select(Delivery))
            assert job is not None
            assert (job.status, job.attempts) == ("sent", 2)


async def test_a_message_takes_its_status_from_every_recipient_not_the_first_settled(
    database_url: str, tmp_path: Path
) -> None:
    clock, port = FakeClock(), free_port()
    async with relaying(database_url, tmp_path, clock, port) as runtime:
        sent = await send(runtime, ["ana@example.com", "nobody@agents.localhost"], "Two ways")

        async def status() -> str | None:
            async with runtime.reads() as session:
                return await session.scalar(sa.select(Message.status).filter_by(id=sent.id))

        with smtp_sink(port, tmp_path / "sink") as sink:
            worker = delivery_worker(runtime)
            jobs = await worker.claim()
            assert sorted(job.route for job in jobs) == ["internal", "relay"]
            await worker.deliver([job for job in jobs if job.route == "relay"])
            assert len(sink.messages()) == 1
            assert await status() == "queued"  # one recipient is still to go
            await worker.deliver([job for job in jobs if job.route == "internal"])
            assert await status() == "bounced"  # no such hosted mailbox
