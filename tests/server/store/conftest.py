"""Fixtures for the store's tests: a migrated database on each engine, seeded with a mailbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.server.store.test_inserts import seed_mailbox
from tidings_server.store import migrate
from tidings_server.store.engine import create_engine, session_factory


@pytest.fixture
async def writes(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Write sessions on the server's engine, over one organisation, identity and mailbox."""
    migrate.upgrade(database_url)
    engine = create_engine(database_url, inline=True)
    factory = session_factory(engine, writes=True)
    await seed_mailbox(factory)
    yield factory
    await engine.dispose()
