"""Group commit: concurrent writers share transactions, and each still answers after its commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support.database import Databases
from tidings_server.store.engine import create_engine, create_write_engine, session_factory
from tidings_server.store.group_commit import GroupCommit, Work


@dataclass
class Store:
    reads: async_sessionmaker[AsyncSession]
    writes: async_sessionmaker[AsyncSession]
    write_engine: AsyncEngine

    async def names(self) -> list[str]:
        async with self.reads() as session:
            return list(await session.scalars(sa.text("SELECT name FROM notes ORDER BY name")))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with open_store(database_url) as opened:
        yield opened


@asynccontextmanager
async def open_store(database_url: str) -> AsyncIterator[Store]:
    engine = create_engine(database_url, inline=True)
    write_engine = create_write_engine(database_url, engine)
    writes = session_factory(write_engine, writes=True)
    async with writes.begin() as session:
        await session.execute(sa.text("CREATE TABLE notes (name VARCHAR(40) PRIMARY KEY)"))
    yield Store(session_factory(engine, writes=False), writes, write_engine)
    for each in {engine, write_engine}:
        await each.dispose()


def note(name: str) -> Work[str]:
    async def work(session: AsyncSession) -> str:
        await session.execute(sa.text("INSERT INTO notes (name) VALUES (:name)"), {"name": name})
        return name

    return work


def count_commits(engine: AsyncEngine) -> list[int]:
    commits = [0]

    @event.listens_for(engine.sync_engine, "commit")
    def _committed(_connection: object) -> None:
        commits[0] += 1

    return commits


async def test_concurrent_writers_share_commits_and_each_gets_its_answer(store: Store) -> None:
    commits = count_commits(store.write_engine)
    group: GroupCommit[str] = GroupCommit(store.writes)
    names = [f"note-{n:02}" for n in range(40)]

    answers = await asyncio.gather(*(group.run(note(name)) for name in names))

    assert answers == names
    assert await store.names() == names
    assert 1 <= commits[0] < len(names)  # the first ran alone, the rest queued behind it


async def test_a_caller_returns_only_once_its_write_is_visible_to_others(store: Store) -> None:
    group: GroupCommit[str] = GroupCommit(store.writes)

    async def write_then_look(name: str) -> bool:
        await group.run(note(name))
        return name in await store.names()

    assert all(await asyncio.gather(*(write_then_look(f"n{n}") for n in range(12))))


async def test_a_unit_that_fails_fails_only_its_own_caller(store: Store) -> None:
    group: GroupCommit[str] = GroupCommit(store.writes)
    await group.run(note("taken"))
    names = ["a", "b", "taken", "c", "d"]  # "taken" breaks the primary key

    outcomes = await asyncio.gather(*(group.run(note(n)) for n in names), return_exceptions=True)

    assert [o if isinstance(o, str) else type(o) for o in outcomes] == [
        "a", "b", IntegrityError, "c", "d",
    ]  # fmt: skip
    assert await store.names() == ["a", "b", "c", "d", "taken"]


async def test_a_lone_writer_is_not_held_back(store: Store) -> None:
    commits = count_commits(store.write_engine)
    group: GroupCommit[str] = GroupCommit(store.writes)
    for name in ("one", "two", "three"):
        assert await group.run(note(name)) == name
    assert commits[0] == 3
    assert await store.names() == ["one", "three", "two"]


async def test_lanes_let_transactions_run_side_by_side(databases: Databases) -> None:
    # PostgreSQL takes writers in parallel: with two lanes a unit waiting for another to
    # start does not hold it up (with one lane this would wait forever).
    waiting, started = asyncio.Event(), asyncio.Event()

    async def waits(session: AsyncSession) -> str:
        waiting.set()
        await asyncio.wait_for(started.wait(), timeout=10)
        return await note("waited")(session)

    async def starts(session: AsyncSession) -> str:
        started.set()
        return await note("started")(session)

    with databases.fresh_postgres() as url:
        async with open_store(url) as store:
            group: GroupCommit[str] = GroupCommit(store.writes, lanes=2)
            first = asyncio.ensure_future(group.run(waits))
            await waiting.wait()  # the first lane is inside `waits`
            assert await group.run(starts) == "started"
            assert await first == "waited"
            assert await store.names() == ["started", "waited"]


async def test_a_unit_handed_over_as_the_last_transaction_ends_still_runs(store: Store) -> None:
    # The moment that matters: the drain has found nothing more waiting and returned, but its
    # task's done callbacks have not run yet. A unit handed over then must start a new drain,
    # not wait for one that is gone (an SMTP client once waited out its 300 s timeout there).
    # Handing the second unit over one loop iteration later each time hits it (on SQLite,
    # whose inline calls take the same loop steps every run).
    group: GroupCommit[str] = GroupCommit(store.writes)
    for later in range(60):
        first = asyncio.ensure_future(group.run(note(f"first-{later:02}")))
        for _ in range(later):
            await asyncio.sleep(0)
        second = group.run(note(f"second-{later:02}"))
        assert await asyncio.wait_for(second, timeout=10) == f"second-{later:02}"
        assert await first == f"first-{later:02}"
    assert len(await store.names()) == 120
