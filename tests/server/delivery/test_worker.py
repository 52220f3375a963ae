"""The delivery worker's leases: a worker that dies mid-delivery is replaced, nothing is lost."""

from __future__ import annotations

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
from tidings_server.runtime import open_runtime
from tidings_server.settings import Settings
from tidings_server.store.models import Delivery, Message


async def test_a_job_held_by_a_dead_worker_is_redelivered_after_its_lease(
    database_url: str, tmp_path: Path
) -> None:
    clock, port = FakeClock(), free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        smtp="off",
        outbound=f"relay://127.0.0.1:{port}",
        delivery_lease_seconds=300,
    )
    async with open_runtime(settings, clock) as runtime:
        org = runtime.bootstrap.org_id
        async with runtime.writes.begin() as session:
            root = Principal(org_id=org, key_id="k", kind="root", identity_id=None)
            await IdentityService(session, root, clock, domain="agents.localhost").create("bot")
            policy = OutboundPolicy(
                "agents.localhost", "relay", lifetime=timedelta(days=5), currency="USD"
            )
            sender = MailSender(session, root, clock, runtime.blobs, policy)
            await sender.send(
                "bot@agents.localhost",
                Outgoing(to=["ana@example.com"], subject="Once", body_text="hello"),
            )
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
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        smtp="off",
        outbound=f"relay://127.0.0.1:{port}",
    )
    async with open_runtime(settings, clock) as runtime:
        org = runtime.bootstrap.org_id
        async with runtime.writes.begin() as session:
            root = Principal(org_id=org, key_id="k", kind="root", identity_id=None)
            await IdentityService(session, root, clock, domain="agents.localhost").create("bot")
            policy = OutboundPolicy(
                "agents.localhost", "relay", lifetime=timedelta(days=5), currency="USD"
            )
            sent = await MailSender(session, root, clock, runtime.blobs, policy).send(
                "bot@agents.localhost",
                Outgoing(
                    to=["ana@example.com", "nobody@agents.localhost"],
                    subject="Two ways",
                    body_text="hello",
                ),
            )

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
