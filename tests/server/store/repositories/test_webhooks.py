"""The webhook worker's queue: the run an order sends next, on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.server.store.test_inserts import IDENTITY, MAILBOX, NOW, ORG
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import Event, Webhook, WebhookDelivery
from tidings_server.store.repositories.webhooks import WebhookJobs

HOOK = "whk_jobs"
KIB = 1024


@pytest.fixture(autouse=True)
async def subscription(writes: async_sessionmaker[AsyncSession]) -> None:
    """One subscription in the seeded store, whose deliveries the tests queue."""
    async with writes.begin() as session:
        session.add(
            Webhook(
                id=HOOK, org_id=ORG, identity_id=IDENTITY, url="https://hooks.example/in",
                event_types=["message.received"], headers={}, secret="whsec_x",
                created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip


def event(n: int, size: int) -> Event:
    return Event(
        id=f"evt_{n}", org_id=ORG, identity_id=IDENTITY, mailbox_id=MAILBOX,
        type="message.received", data={"text": "x" * size}, created_at=NOW,
    )  # fmt: skip


def delivery(n: int, of: Event) -> WebhookDelivery:
    return WebhookDelivery(
        id=f"whd_{n}", org_id=ORG, identity_id=IDENTITY, webhook_id=HOOK, event_id=of.id,
        event_seq=of.seq, order_key=MAILBOX, status="pending", attempts=0,
        next_attempt_at=NOW, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


async def queue(writes: async_sessionmaker[AsyncSession], *sizes: int) -> list[str]:
    """Pending deliveries of one order, in event order, whose events carry `sizes` bytes."""
    events = [event(n, size) for n, size in enumerate(sizes)]
    async with writes.begin() as session:
        await insert_rows(session, events)
        await insert_rows(session, [delivery(n, e) for n, e in enumerate(events)])
    return [f"whd_{n}" for n in range(len(sizes))]


async def loaded(session: AsyncSession, delivery_id: str) -> WebhookDelivery:
    found = await session.get(WebhookDelivery, delivery_id)
    assert found is not None
    return found


async def next_run(
    writes: async_sessionmaker[AsyncSession], *, limit: int = 50, max_bytes: int = 512 * KIB
) -> list[str]:
    async with writes.begin() as session:
        return await WebhookJobs(session).next_run(
            HOOK, MAILBOX, NOW, limit=limit, max_bytes=max_bytes
        )


async def test_a_run_takes_the_order_from_its_head_up_to_the_limit(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    ids = await queue(writes, 10, 10, 10, 10)
    assert await next_run(writes) == ids
    assert await next_run(writes, limit=3) == ids[:3]


async def test_a_run_stops_before_its_events_pass_the_byte_bound(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    ids = await queue(writes, 200 * KIB, 200 * KIB, 200 * KIB, 10)
    assert await next_run(writes) == ids[:2]


async def test_a_run_always_holds_its_head_however_big(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    ids = await queue(writes, 600 * KIB, 10)
    assert await next_run(writes) == ids[:1]


async def test_a_run_stops_at_a_delivery_that_must_wait_or_is_leased(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    ids = await queue(writes, 10, 10, 10, 10)
    async with writes.begin() as session:
        waiting = await loaded(session, ids[1])
        leased = await loaded(session, ids[3])
        waiting.next_attempt_at = NOW + timedelta(seconds=5)
        leased.lease_until = NOW + timedelta(seconds=60)
    assert await next_run(writes) == ids[:1]
    async with writes.begin() as session:
        (await loaded(session, ids[1])).next_attempt_at = NOW
    assert await next_run(writes) == ids[:3]


async def test_release_hands_back_only_its_own_lease_with_the_attempt_uncounted(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    ids = await queue(writes, 10, 10)
    lease = NOW + timedelta(seconds=60)
    async with writes.begin() as session:
        await WebhookJobs(session).lease(ids, lease)
    async with writes.begin() as session:
        await WebhookJobs(session).release(ids, NOW + timedelta(seconds=30))
        await WebhookJobs(session).release(ids[1:], lease)
    async with writes() as session:
        first, second = [await loaded(session, i) for i in ids]
        assert (first.lease_until, first.attempts) == (lease, 1)
        assert (second.lease_until, second.attempts) == (None, 0)
