"""Units of work end (commit or roll back, give back the connection) even when cancelled,
and without a turn of the event loop when nothing has to wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tidings_server.store.engine import create_engine, create_write_engine, session_factory
from tidings_server.store.sessions import Sessions, uncancellable


async def test_an_uncancellable_read_finishes_before_its_cancelled_caller_unwinds() -> None:
    # An event stream's poll is cancelled when its client leaves, and anyio cancels again at
    # every await: the read must still end (and give back its connection) first.
    release, finished = asyncio.Event(), []

    async def read() -> int:
        await release.wait()
        finished.append("read")
        return 1

    caller = asyncio.create_task(uncancellable(read()))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.sleep(0.01)
    assert not caller.done()
    caller.cancel()
    await asyncio.sleep(0.01)
    assert not caller.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert finished == ["read"]


async def test_an_uncancellable_read_answers_when_left_alone() -> None:
    async def read() -> int:
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)
        return 7

    assert await uncancellable(read()) == 7


async def test_work_that_needs_no_wait_ends_in_the_callers_turn() -> None:
    # Every ready request runs before a task created now: ending a request's unit of work
    # in a task of its own made each request wait out one more turn of the loop.
    turns: list[str] = []
    asyncio.get_running_loop().call_soon(turns.append, "next turn")

    async def close() -> str:
        return "closed"

    assert await uncancellable(close()) == "closed"
    assert turns == []


async def test_a_failure_reaches_the_caller_before_and_after_a_wait() -> None:
    async def fails_at_once() -> None:
        raise LookupError("at once")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise LookupError("later")

    with pytest.raises(LookupError, match="at once"):
        await uncancellable(fails_at_once())
    with pytest.raises(LookupError, match="later"):
        await uncancellable(fails_later())


class _Base(DeclarativeBase):
    pass


class Probe(_Base):
    __tablename__ = "probe"
    n: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


def checked_out(sessions: Sessions) -> int:
    """Connections of the factory's pool in use now."""
    return int(sessions.kw["bind"].sync_engine.pool.checkedout())


@pytest.fixture
async def units(database_url: str) -> AsyncIterator[tuple[Sessions, Sessions]]:
    """Read and write session factories on a fresh database with one table, `probe`."""
    reads_engine = create_engine(database_url)
    writes_engine = create_write_engine(database_url, reads_engine)
    writes = session_factory(writes_engine, writes=True)
    async with writes.begin() as session:
        await session.execute(sa.text("CREATE TABLE probe (n INTEGER PRIMARY KEY)"))
    yield session_factory(reads_engine, writes=False), writes
    await writes_engine.dispose()
    await reads_engine.dispose()


async def test_a_unit_of_work_commits_or_rolls_back_and_gives_back_its_connection(
    units: tuple[Sessions, Sessions],
) -> None:
    reads, writes = units
    async with writes.begin() as session:
        await session.execute(sa.text("INSERT INTO probe VALUES (1)"))

    async def failing_endpoint() -> None:
        async with writes.begin() as session:
            await session.execute(sa.text("INSERT INTO probe VALUES (2)"))
            raise LookupError("the endpoint failed")

    with pytest.raises(LookupError):
        await failing_endpoint()
    async with reads() as session:
        assert (await session.scalars(sa.text("SELECT n FROM probe"))).all() == [1]
    for sessions in (reads, writes):
        assert checked_out(sessions) == 0


async def test_a_unit_of_work_whose_commit_fails_still_gives_back_its_connection(
    units: tuple[Sessions, Sessions],
) -> None:
    _, writes = units

    async def add(n: int) -> None:
        async with writes.begin() as session:
            session.add(Probe(n=n))  # written by the flush in the commit

    await add(1)
    with pytest.raises(sa.exc.IntegrityError):
        await add(1)
    assert checked_out(writes) == 0
    await add(2)


async def test_a_cancelled_unit_of_work_still_gives_back_its_connection(
    units: tuple[Sessions, Sessions],
) -> None:
    reads, _ = units
    started = asyncio.Event()

    async def read_then_wait() -> None:
        async with reads() as session:
            await session.scalar(sa.text("SELECT count(*) FROM probe"))
            started.set()
            await asyncio.sleep(10)

    reader = asyncio.create_task(read_then_wait())
    await started.wait()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert checked_out(reads) == 0


async def test_a_sqlite_read_takes_no_turn_of_the_event_loop(tmp_path) -> None:
    # SQLite's calls run on the loop's thread, so a whole read unit of work, its end
    # included, runs within one turn: a request is answered before the next turn's work.
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}", inline=True, reads_only=True)
    reads = session_factory(engine, writes=False)
    try:
        async with reads() as session:  # the first checkout opens the connection
            await session.scalar(sa.text("SELECT 1"))
        turns: list[str] = []
        asyncio.get_running_loop().call_soon(turns.append, "next turn")
        async with reads() as session:
            assert await session.scalar(sa.text("SELECT 2")) == 2
        assert turns == []
    finally:
        await engine.dispose()
