"""The process's shared resources: settings, clock, database engine and session factories.

`open_runtime` migrates the database and runs first-start bootstrap before anything serves;
the API (and later SMTP and workers) receive the Runtime rather than building their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tidings_server.blobs import BlobStore, FileBlobStore
from tidings_server.clock import Clock, SystemClock
from tidings_server.directory.bootstrap import Bootstrap, bootstrap
from tidings_server.directory.keys import PrincipalCache
from tidings_server.directory.recent import Recent
from tidings_server.mail.sending import Senders
from tidings_server.settings import Settings
from tidings_server.store import migrate
from tidings_server.store.engine import (
    create_engine,
    create_write_engine,
    is_sqlite,
    session_factory,
)

# At least this much `work_mem` for ranked searches on PostgreSQL (see `create_engine`):
# over a million messages the slowest benchmark searches took 15% less time than with 4 MB.
SEARCH_WORK_MEM = "16MB"


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    reads: async_sessionmaker[AsyncSession]
    writes: async_sessionmaker[AsyncSession]
    # Reads that may run long (ranked search). On SQLite `reads` and `writes` run each call
    # on the event loop's thread (store/sqlite_inline.py); these keep aiosqlite's thread. On
    # PostgreSQL they are planned for their values every time (see `create_engine`).
    long_reads: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    bootstrap: Bootstrap
    principals: PrincipalCache
    # Hosted addresses an SMTP recipient check found lately (mail.receiving).
    recipients: Recent[str, bool]
    # Who sends from an address, as sends found it lately (mail.sending).
    senders: Senders

    def forget_directory(self) -> None:
        """Drop every remembered directory answer: a unit of work changed the directory."""
        self.principals.clear()
        self.recipients.clear()
        self.senders.clear()

    @cached_property
    def is_sqlite(self) -> bool:
        # Cached: sends ask on every request, and the answer cannot change.
        return is_sqlite(self.settings.resolved_database_url)


@asynccontextmanager
async def open_runtime(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    clock = clock or SystemClock()
    url = settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url, inline=True, reads_only=True)
    write_engine = create_write_engine(url, engine)
    # As many kept open as `reads`: with four, eight searches at once opened and closed a
    # PostgreSQL connection for most of them (a backend started for each).
    long_engine = create_engine(
        url, plan_each_time=True, min_work_mem=SEARCH_WORK_MEM, reads_only=True
    )
    try:
        writes = session_factory(write_engine, writes=True)
        started = await bootstrap(writes, clock, settings.root_key_path)
        yield Runtime(
            settings=settings,
            clock=clock,
            engine=engine,
            reads=session_factory(engine, writes=False),
            writes=writes,
            long_reads=session_factory(long_engine, writes=False),
            blobs=FileBlobStore(settings.blob_dir),
            bootstrap=started,
            principals=PrincipalCache(settings.auth_cache_seconds),
            recipients=Recent(settings.smtp_recipient_cache_seconds),
            senders=Recent(settings.sender_cache_seconds),
        )
    finally:
        for each in {engine, write_engine, long_engine}:
            await each.dispose()
