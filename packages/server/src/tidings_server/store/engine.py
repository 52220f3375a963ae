"""Engines for the two supported databases, with the settings durability depends on.

SQLite runs in WAL mode with `synchronous=FULL` and a busy timeout; its write transactions
start with `BEGIN IMMEDIATE` so two writers queue on the lock instead of failing on upgrade,
and in one process they share a single write connection (see `create_write_engine`). The
server's SQLite connections run their calls on the event loop's thread (`sqlite_inline`).
PostgreSQL goes through psycopg 3 for both the async engine and migrations; a pooled
connection is checked before use only when it may be gone (`ping_when_maybe_gone`).
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from tidings_server.store import json_text
from tidings_server.store.sessions import Sessions, UnitOfWorkSession
from tidings_server.store.sqlite_inline import (
    INLINE_BUSY_TIMEOUT_MS,
    begin_immediate,
    inline_creator,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "tidings_write"
# A PostgreSQL connection back in the pool for longer than this is pinged before reuse.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "tidings.returned_at"


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _with_driver(url: str | URL, *, sync: bool) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite" if sync else "sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _sqlite_path(url: str | URL) -> str:
    return make_url(url).database or ":memory:"


def sync_url(url: str | URL) -> URL:
    return _with_driver(url, sync=True)


def async_url(url: str | URL) -> URL:
    return _with_driver(url, sync=False)


def _configure_sqlite(engine: sa.Engine, *, inline: bool = False, reads_only: bool = False) -> None:
    busy_timeout_ms = INLINE_BUSY_TIMEOUT_MS if inline else SQLITE_BUSY_TIMEOUT_MS

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        if reads_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        writes = not reads_only and connection.get_execution_options().get(WRITE_OPTION, True)
        if not writes:
            connection.exec_driver_sql("BEGIN")
        elif inline:
            begin_immediate(connection, SQLITE_BUSY_TIMEOUT_MS / 1000)
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sync_engine(url: str | URL) -> sa.Engine:
    engine = sa.create_engine(sync_url(url), json_deserializer=json_text.loads)
    if is_sqlite(url):
        _configure_sqlite(engine)
    return engine


def create_engine(
    url: str | URL,
    *,
    pool_size: int = 10,
    inline: bool = False,
    plan_each_time: bool = False,
    min_work_mem: str | None = None,
    reads_only: bool = False,
) -> AsyncEngine:
    """The async engine the server runs on; `inline` SQLite calls run on the loop's thread.

    `reads_only` is for SQLite's read engine, whose writer has an engine of its own
    (`create_write_engine`): its connections refuse to write (`PRAGMA query_only`), so
    ending a transaction on one never waits for fsync, and an inline one ends it on the
    loop's thread. On PostgreSQL it changes nothing: one engine serves both.

    `plan_each_time` keeps PostgreSQL from preparing statements: psycopg prepares one once it
    has run five times, and PostgreSQL may then settle on a generic plan that ignores the
    values. That suits most statements, but the best plan for a search depends on how common
    its terms are (walk the mailbox newest first, or intersect the text index): a generic
    plan made a common prefix take ten times as long.

    `min_work_mem` raises PostgreSQL's `work_mem` to at least that on each connection, and
    never lowers a larger value the database's administrator chose. A prefix search gathers
    its matches in a bitmap limited to `work_mem`; past it the bitmap keeps whole pages, and
    PostgreSQL reads and discards the rows on them that do not match."""
    if is_sqlite(url):
        path = _sqlite_path(url)
        creator = {"async_creator": inline_creator(path, writes=not reads_only)} if inline else {}
        engine = create_async_engine(async_url(url), json_deserializer=json_text.loads, **creator)
        _configure_sqlite(engine.sync_engine, inline=inline, reads_only=reads_only)
    else:
        engine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            json_deserializer=json_text.loads,
            connect_args={"prepare_threshold": None} if plan_each_time else {},
        )
        ping_when_maybe_gone(engine, PING_AFTER_IDLE_SECONDS)
        if min_work_mem is not None:
            _raise_work_mem(engine, min_work_mem)
    return engine


def ping_when_maybe_gone(engine: AsyncEngine, seconds: float) -> None:
    """Check a pooled connection with a round trip before reuse, if it may have gone away.

    SQLAlchemy's `pool_pre_ping` pings at every checkout: a round trip and about 0.2 ms of
    CPU before each unit of work, which was an eighth of a PostgreSQL get. A connection used
    a moment ago is almost always still there, so only two kinds are pinged: one that sat
    idle for `seconds` (a restart, a failover or an idle timeout may have closed it), and
    one last used before the engine last lost a connection (the same restart took it too).
    So when the server goes away, the unit of work that finds out fails (503, retryable, as
    it would have while the server was away) and the connections after it are checked.
    """
    dialect = engine.sync_engine.dialect
    lost_at = float("-inf")  # when the server was last found gone

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: sa.engine.ExceptionContext) -> None:
        nonlocal lost_at
        # A lost connection, or none to be had (only connecting has no connection yet).
        if context.is_disconnect or context.connection is None:
            lost_at = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        nonlocal lost_at
        returned = record.info.get(_RETURNED_AT)
        if returned is None:
            return  # opened just now
        if time.monotonic() - returned < seconds and returned > lost_at:
            return  # used a moment ago, and nothing was lost since
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            lost_at = time.monotonic()
            # Connections opened before this one are likely gone too: replace them all.
            raise sa.exc.InvalidatePoolError(f"a pooled connection failed its ping: {exc}") from exc


_RAISE_WORK_MEM = (
    "SELECT set_config('work_mem', %(minimum)s, false) "
    "WHERE pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%(minimum)s)"
)


def _raise_work_mem(engine: AsyncEngine, minimum: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(_RAISE_WORK_MEM, {"minimum": minimum})
        cursor.close()
        # The setting is the session's, but set inside the transaction the SELECT opened.
        dbapi_connection.commit()


def create_write_engine(url: str | URL, engine: AsyncEngine) -> AsyncEngine:
    """The engine write units of work run on; `engine` serves the reads.

    SQLite has one writer at a time. With a pool of several connections, concurrent writers
    (ten SMTP sessions, say) each wait in SQLite's busy handler, which sleeps up to 100 ms
    between tries: throughput collapses and the slowest waits grow to seconds. One write
    connection makes them queue on the pool instead, in order and without sleeping. Another
    process (the CLI) holding the lock is waited for by `begin_immediate`, off the loop.
    """
    if not is_sqlite(url):
        return engine
    writer = create_async_engine(
        async_url(url),
        async_creator=inline_creator(_sqlite_path(url)),
        json_deserializer=json_text.loads,
        pool_size=1,
        max_overflow=0,
        pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
    )
    _configure_sqlite(writer.sync_engine, inline=True)
    return writer


def session_factory(engine: AsyncEngine, *, writes: bool) -> Sessions:
    """Sessions for read-only (`writes=False`) or read-write units of work."""
    options: dict[str, Any] = {WRITE_OPTION: writes}
    if not writes and engine.dialect.name == "postgresql":
        # Under READ COMMITTED each statement takes its own snapshot, in a transaction or not,
        # so a read-only unit of work loses nothing without one: it saves the round trips of
        # BEGIN and COMMIT, which were two of a get's three.
        options["isolation_level"] = "AUTOCOMMIT"
    bound = engine.execution_options(**options)
    return Sessions(bound, class_=UnitOfWorkSession, expire_on_commit=False, autoflush=True)
