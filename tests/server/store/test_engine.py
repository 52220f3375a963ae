"""The store's durability settings and migrations, on each engine."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.database import Databases
from tidings_server.store import migrate
from tidings_server.store.engine import (
    PING_AFTER_IDLE_SECONDS,
    create_engine,
    create_sync_engine,
    session_factory,
)


async def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    async with engine.connect() as connection:
        journal = await connection.scalar(sa.text("PRAGMA journal_mode"))
        synchronous = await connection.scalar(sa.text("PRAGMA synchronous"))
        foreign_keys = await connection.scalar(sa.text("PRAGMA foreign_keys"))
    await engine.dispose()
    assert journal == "wal"
    assert synchronous == 2  # FULL
    assert foreign_keys == 1


async def test_sqlite_write_units_of_work_take_the_write_lock_up_front(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: writers queue on the lock at the start; readers never take it."""
    path = tmp_path / "t.db"
    migrate.upgrade(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    async with session_factory(engine, writes=True)() as writer:
        await writer.execute(sa.text("SELECT 1"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        await writer.rollback()
    async with session_factory(engine, writes=False)() as reader:
        await reader.execute(sa.text("SELECT 1"))
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    other.close()
    await engine.dispose()


def test_migrations_reach_head_on_each_engine(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)  # a second run is a no-op
    engine = create_sync_engine(database_url)
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision()
        tables = set(sa.inspect(connection).get_table_names())
    engine.dispose()
    assert {"organisations", "identities", "mailboxes", "api_keys"} <= tables


def upgrade_with_entries(
    path: Path, revision: str, insert: str, rows: list[tuple[object, ...]]
) -> None:
    """A SQLite store at `revision` with search entries written then, upgraded to the head."""
    migrate.upgrade(f"sqlite:///{path}", revision)
    with sqlite3.connect(path) as db:
        db.executemany(insert, rows)
    migrate.upgrade(f"sqlite:///{path}")


def test_upgrading_sqlite_keeps_the_search_index_and_indexes_its_mailboxes(
    tmp_path: Path,
) -> None:
    """0008 rebuilds FTS5 with the mailbox as a token: entries written before still match."""
    path = tmp_path / "t.db"
    upgrade_with_entries(
        path,
        "0007",
        "INSERT INTO message_search (message_id, mailbox_id, subject, addresses, body, "
        "attachment_names) VALUES (?, ?, ?, ?, ?, '')",
        [
            ("msg_1", "mbx_one", "Invoice", "ana@example.com", "Due friday"),
            ("msg_2", "mbx_two", "Invoice", "bob@example.com", "Due monday"),
        ],
    )
    with sqlite3.connect(path) as db:
        found = db.execute(
            "SELECT message_id FROM message_search WHERE message_search MATCH ?",
            ['mailbox : "mbxtwo" AND "invoice"*'],
        ).fetchall()
    assert found == [("msg_2",)]


def test_upgrading_sqlite_adds_prefix_indexes_and_keeps_entries_in_order(tmp_path: Path) -> None:
    """0009 rebuilds FTS5 with prefix indexes: old entries still match, under their rowids
    (search's window takes the highest rowids as the newest)."""
    path = tmp_path / "t.db"
    upgrade_with_entries(
        path,
        "0008",
        "INSERT INTO message_search (rowid, message_id, subject, addresses, body, "
        "attachment_names, mailbox) VALUES (?, ?, ?, '', ?, '', 'mbxone')",
        [(7, "msg_old", "Invoice", "Due friday"), (9, "msg_new", "Invoices", "Due monday")],
    )
    with sqlite3.connect(path) as db:
        (ddl,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'message_search'"
        ).fetchone()
        found = db.execute(
            "SELECT rowid, message_id FROM message_search WHERE message_search MATCH ? "
            "ORDER BY rowid DESC",
            ['mailbox : "mbxone" AND "inv"*'],
        ).fetchall()
    assert "prefix = '2 3 4 5 6 7'" in ddl
    assert found == [(9, "msg_new"), (7, "msg_old")]


async def test_postgresql_engines_for_long_reads_never_prepare_statements(
    databases: Databases,
) -> None:
    """psycopg prepares a statement on its fifth run, and PostgreSQL may then plan it once for
    any values; a search's best plan depends on its terms, so its engine plans every run."""
    with databases.fresh_postgres() as url:
        prepared = {}
        for plan_each_time in (False, True):
            engine = create_engine(url, plan_each_time=plan_each_time)
            async with engine.connect() as connection:
                for n in range(8):
                    await connection.execute(sa.text("SELECT :n + 1"), {"n": n})
                prepared[plan_each_time] = await connection.scalar(
                    sa.text("SELECT count(*) FROM pg_prepared_statements")
                )
            await engine.dispose()
    assert prepared == {False: 1, True: 0}


async def test_postgresql_pings_a_pooled_connection_only_after_it_sat_idle(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ping is a round trip before the unit of work: back to back, connections are used
    without one; after a pause, a connection the server dropped meanwhile is replaced."""
    with databases.fresh_postgres() as url:
        engine = create_engine(url)
        pings = []
        dialect = engine.sync_engine.dialect
        ping = dialect.do_ping
        monkeypatch.setattr(dialect, "do_ping", lambda c: pings.append(1) or ping(c))
        reads = session_factory(engine, writes=False)

        async def backend() -> int:
            async with reads() as session:
                return int(await session.scalar(sa.text("SELECT pg_backend_pid()")))

        first = [await backend() for _ in range(5)]
        assert len(set(first)) == 1
        assert pings == []
        admin = create_sync_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first[0]})
        admin.dispose()
        await asyncio.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
        replaced = await backend()
        await engine.dispose()
    assert pings == [1]
    assert replaced != first[0]


def test_postgresql_indexes_a_mailboxs_words_together(databases: Databases) -> None:
    """0010: one GIN index over (mailbox, words), so the mailbox narrows a term's matches
    inside the index (not in a bitmap of all its messages); the words-only index is gone."""
    with databases.fresh_postgres() as url:
        migrate.upgrade(url)
        engine = create_sync_engine(url)
        with engine.connect() as connection:
            definitions = connection.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messages' "
                    "AND indexdef LIKE '%search_vector%'"
                )
            ).all()
        engine.dispose()
    assert [(name, definition.split(" USING ")[1]) for name, definition in definitions] == [
        ("ix_messages_search_by_mailbox", "gin (mailbox_id, search_vector)")
    ]


async def test_search_connections_get_at_least_16mb_of_work_mem_and_keep_more(
    databases: Databases,
) -> None:
    """A prefix search's bitmap goes lossy past `work_mem`; the search engine raises it on
    PostgreSQL, and leaves a larger value the administrator set for the database alone."""

    async def work_mem(url: str) -> tuple[str, str]:
        searches = create_engine(url, plan_each_time=True, min_work_mem="16MB")
        others = create_engine(url)
        async with session_factory(searches, writes=False)() as session:
            raised = await session.scalar(sa.text("SHOW work_mem"))
        async with session_factory(others, writes=False)() as session:
            left = await session.scalar(sa.text("SHOW work_mem"))
        await searches.dispose()
        await others.dispose()
        return raised, left

    def set_for_database(url: str, value: str) -> None:
        database = sa.make_url(url).database
        admin = create_sync_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"ALTER DATABASE \"{database}\" SET work_mem = '{value}'"))
        admin.dispose()

    with databases.fresh_postgres() as url:
        set_for_database(url, "4MB")  # PostgreSQL's default
        assert await work_mem(url) == ("16MB", "4MB")
        set_for_database(url, "64MB")
        assert await work_mem(url) == ("64MB", "64MB")
