"""SQLite calls on the event loop's thread: fast, and never stopping the loop to wait."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tidings_server.store import migrate
from tidings_server.store.engine import create_engine, create_write_engine, session_factory


async def test_inline_connections_read_and_write_on_the_loops_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    migrate.upgrade(url)
    reads = create_engine(url, inline=True)
    writes = create_write_engine(url, reads)
    async with session_factory(writes, writes=True).begin() as session:
        await session.execute(sa.text("CREATE TABLE notes (body TEXT)"))
        await session.execute(sa.text("INSERT INTO notes VALUES ('kept')"))
    async with session_factory(reads, writes=False)() as session:
        assert await session.scalar(sa.text("SELECT body FROM notes")) == "kept"
        assert await session.scalar(sa.text("PRAGMA journal_mode")) == "wal"
    # A function SQLite calls while running the statement reports the thread it runs on.
    threaded = create_engine(url)
    ran_on = {}
    for name, engine in (("inline", reads), ("threaded", threaded)):
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            await raw.driver_connection.create_function("thread_id", 0, threading.get_ident)
            ran_on[name] = await connection.scalar(sa.text("SELECT thread_id()"))
    assert ran_on["inline"] == threading.get_ident()
    assert ran_on["threaded"] != threading.get_ident()
    for engine in (threaded, writes, reads):
        await engine.dispose()


async def test_a_writer_waits_for_another_process_lock_without_stopping_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    reads = create_engine(url, inline=True)
    writes = create_write_engine(url, reads)
    other = sqlite3.connect(path, isolation_level=None)  # the CLI, say, mid-transaction
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> float:
        started = time.monotonic()
        async with session_factory(writes, writes=True).begin() as session:
            await session.execute(sa.text("CREATE TABLE waited (n INTEGER)"))
        return time.monotonic() - started

    ticker = asyncio.create_task(tick())
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.4)
    assert not writer.done()  # still waiting for the lock
    other.execute("ROLLBACK")
    waited = await asyncio.wait_for(writer, timeout=10)
    ticker.cancel()
    other.close()
    assert waited >= 0.4
    assert ticks >= 20  # the loop kept running while the writer waited
    async with session_factory(reads, writes=False)() as session:
        assert await session.scalar(sa.text("SELECT count(*) FROM waited")) == 0
    await writes.dispose()
    await reads.dispose()


async def test_statements_with_large_values_and_commits_run_off_the_loop(
    tmp_path: Path,
) -> None:
    # Storing and indexing a 20 MB body takes long enough to stall every other request, so
    # such a statement runs on the connection's own thread; so does every commit, which
    # waits for fsync.
    url = f"sqlite:///{tmp_path / 't.db'}"
    migrate.upgrade(url)
    reads = create_engine(url, inline=True)
    writes = create_write_engine(url, reads)
    ran_on: dict[str, int] = {}

    def trace(statement: str) -> None:
        ran_on[statement.split()[0]] = threading.get_ident()

    async with session_factory(writes, writes=True).begin() as session:
        raw = await (await session.connection()).get_raw_connection()
        raw.driver_connection._conn.set_trace_callback(trace)
        await session.execute(sa.text("CREATE TABLE notes (body TEXT)"))
        await session.execute(sa.text("INSERT INTO notes VALUES ('small')"))
        await session.execute(sa.text("UPDATE notes SET body = :body"), {"body": "x" * 100_000})
    loop_thread = threading.get_ident()
    assert ran_on["INSERT"] == loop_thread
    assert ran_on["UPDATE"] != loop_thread
    assert ran_on["COMMIT"] != loop_thread
    ran_on.clear()
    async with session_factory(writes, writes=True).begin() as session:
        await session.execute(sa.text("INSERT INTO notes VALUES ('small again')"))
    assert ran_on["INSERT"] == loop_thread
    assert ran_on["COMMIT"] != loop_thread
    async with session_factory(reads, writes=False)() as session:
        assert await session.scalar(sa.text("SELECT max(length(body)) FROM notes")) == 100_000
    await writes.dispose()
    await reads.dispose()


async def test_the_read_engine_cannot_write_so_its_commits_stay_on_the_loop(tmp_path: Path) -> None:
    # Ending a read transaction waits for no fsync, and handing its COMMIT to the thread cost
    # more than the rest of a small read; that holds only if a read connection never writes.
    path = tmp_path / "t.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    reads = create_engine(url, inline=True, reads_only=True)
    ran_on: dict[str, int] = {}

    def trace(statement: str) -> None:
        ran_on[statement.split()[0]] = threading.get_ident()

    async with session_factory(reads, writes=False)() as session:
        raw = await (await session.connection()).get_raw_connection()
        raw.driver_connection._conn.set_trace_callback(trace)
        assert await session.scalar(sa.text("SELECT count(*) FROM organisations")) == 0
        await session.commit()
    assert ran_on["COMMIT"] == threading.get_ident()

    # Connected without the read option, as /readyz connects: a write engine would BEGIN
    # IMMEDIATE.
    with pytest.raises(sa.exc.OperationalError, match="readonly"):
        async with reads.connect() as connection:
            await connection.execute(sa.text("CREATE TABLE notes (body TEXT)"))
    # Nor does it wait for the write lock: another process holding it does not hold it up.
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    async with reads.connect() as connection:
        revision = await asyncio.wait_for(connection.run_sync(migrate.current_revision), 5)
    other.execute("ROLLBACK")
    other.close()
    assert revision == migrate.head_revision()
    await reads.dispose()
