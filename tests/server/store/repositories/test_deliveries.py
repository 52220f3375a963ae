"""The delivery queue as a worker claims it: due jobs leased in order, each with its message."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.server.store.test_inserts import IDENTITY, NOW, ORG, message, thread
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import Delivery
from tidings_server.store.repositories.deliveries import DeliveryJobs

LEASE = NOW + timedelta(minutes=5)
STORED = 300  # messages in the store, a few of them with jobs queued


def job(n: int, *, due: timedelta = timedelta(0)) -> Delivery:
    return Delivery(
        org_id=ORG, identity_id=IDENTITY, message_id=f"msg_{n:03d}", recipient=f"r{n}@example.org",
        domain="example.org", route="mx", status="queued", attempts=0,
        next_attempt_at=NOW + due, lease_until=None, expires_at=NOW + timedelta(days=5),
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


@pytest.fixture
async def queued(writes: async_sessionmaker[AsyncSession]) -> None:
    """A store of sent messages; the three newest have a job each, the newest due last."""
    async with writes.begin() as session:
        await insert_rows(session, [thread("thr_q")])
        stored = [message(f"msg_{n:03d}", "thr_q") for n in range(STORED)]
        for n, row in enumerate(stored):
            row.envelope_from, row.raw_blob = f"ana+{n}@agents.test", f"raw/{n}"
        await insert_rows(session, stored)
        await insert_rows(session, [job(297), job(298), job(299, due=timedelta(seconds=1))])


async def lease(writes: async_sessionmaker[AsyncSession], limit: int) -> list[tuple[object, ...]]:
    async with writes.begin() as session:
        return await DeliveryJobs(session).lease_due(NOW + timedelta(seconds=1), limit, LEASE)


async def test_a_claim_leases_due_jobs_oldest_first_each_with_its_message(
    writes: async_sessionmaker[AsyncSession], queued: None
) -> None:
    first = await lease(writes, 2)
    rest = await lease(writes, 10)
    again = await lease(writes, 10)

    claimed = [(j[1], j[2], j[5], j[7], j[8], j[9]) for j in first + rest]
    assert claimed == [
        (f"msg_{n}", f"r{n}@example.org", 1, LEASE, f"ana+{n}@agents.test", f"raw/{n}")
        for n in (297, 298, 299)
    ]
    assert again == []  # leased until LEASE
    async with writes() as session:
        stored = [await session.get(Delivery, j[0]) for j in first + rest]
    assert [(d.attempts, d.lease_until) for d in stored if d] == [(1, LEASE)] * 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_claim_on_sqlite_reads_by_index_whatever_the_store_holds(
    database_url: str, writes: async_sessionmaker[AsyncSession], queued: None
) -> None:
    """SQLite plans subqueries in an UPDATE's RETURNING without indexes: a claim that read
    its messages there scanned the messages table once per job."""
    ran: list[tuple[str, object]] = []
    engine = writes.kw["bind"].sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def record(_conn: object, _cursor: object, sql: str, params: object, *_: object) -> None:
        ran.append((sql, params))

    assert len(await lease(writes, 10)) == 3
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        plans = [
            detail
            for sql, params in ran
            if sql.split()[0] in ("SELECT", "UPDATE")
            for *_, detail in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)  # type: ignore[arg-type]
        ]
    assert len(plans) >= 2  # the SELECT's and the UPDATE's
    assert [p for p in plans if p.startswith("SCAN")] == []
