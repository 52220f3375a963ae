"""PostgreSQL search finds a mailbox's newest matches by walking the mailbox or by gathering
them from the index, whichever the term's estimated matches make cheaper, with the same
answers either way, and a word's mailbox tag never lets another mailbox's messages in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.server.store.test_inserts import MAILBOX, NOW, ORG, message, seed_mailbox
from tests.server.store.test_inserts import thread as thread_row
from tests.support.database import Databases
from tidings_server.store import migrate
from tidings_server.store.engine import create_engine, session_factory
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import Identity, Mailbox
from tidings_server.store.repositories.search import SearchDocument, SearchIndex

# Another mailbox whose id ends as MAILBOX's does, so its words carry the same tag.
NEIGHBOUR = "mbx_neighbour_ins"
WINDOW = 5


@dataclass
class Searches:
    writes: async_sessionmaker[AsyncSession]
    reads: async_sessionmaker[AsyncSession]
    statements: list[str]

    async def ids(self, mailbox_id: str, query: str, window: int = WINDOW) -> list[str]:
        async with self.reads() as session:
            mailbox = await session.get_one(Mailbox, mailbox_id)
            hits = await SearchIndex(session).search(
                mailbox, query, limit=50, offset=0, window=window
            )
        return [hit.message_id for hit in hits]

    def walked(self) -> bool:
        """Whether the last search walked its mailbox newest first."""
        ranked = [s for s in self.statements if "ts_rank" in s][-1]
        return "ts_match_vq" in ranked


async def _file(
    searches: Searches, mailbox_id: str, bodies: list[str], *, index: bool = True
) -> list[str]:
    """Messages with these bodies, oldest first, indexed as filing indexes them.

    Each gets four words of its own: PostgreSQL estimates a prefix's matches only when its
    statistics hold 100 distinct words or more (below that it assumes 2% of the rows)."""
    ids = []
    async with searches.writes.begin() as session:
        thread = thread_row(f"thr_{mailbox_id}")
        thread.mailbox_id = mailbox_id
        await insert_rows(session, [thread])
        for n, body in enumerate(bodies):
            row = message(f"msg_{mailbox_id}_{n:03}", thread.id)
            body = f"{body} {' '.join(f'w{n}{c}' for c in 'abcd')}"
            row.mailbox_id, row.body_text, row.attachments = mailbox_id, body, []
            await insert_rows(session, [row])
            if index:
                await SearchIndex(session).add(row, SearchDocument("Hello", "", body, ""))
            ids.append(row.id)
    return ids


@asynccontextmanager
async def _searches(url: str) -> AsyncIterator[Searches]:
    """The store at `url` (migrated), with MAILBOX and NEIGHBOUR in it."""
    engine = create_engine(url, inline=True)
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    writes = session_factory(engine, writes=True)
    await seed_mailbox(writes)
    async with writes.begin() as session:
        session.add(Identity(id="idn_n", org_id=ORG, handle="n", created_at=NOW, updated_at=NOW))
        await session.flush()
        session.add(
            Mailbox(
                id=NEIGHBOUR, org_id=ORG, identity_id="idn_n", address="n@inserts.test",
                created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    yield Searches(writes, session_factory(engine, writes=False), statements)
    await engine.dispose()


@pytest.fixture
async def searches(databases: Databases) -> AsyncIterator[Searches]:
    with databases.fresh_postgres() as url:
        migrate.upgrade(url)
        async with _searches(url) as store:
            yield store


async def _analyzed(searches: Searches) -> None:
    async with searches.reads() as session:
        await session.execute(sa.text("ANALYZE messages"))


async def test_a_term_in_most_messages_walks_the_mailbox_newest_first(
    searches: Searches,
) -> None:
    filed = await _file(searches, MAILBOX, [f"Quarterly figures, part {n}." for n in range(30)])
    await _analyzed(searches)

    found = await searches.ids(MAILBOX, "quarter")

    assert searches.walked()
    assert sorted(found) == sorted(filed[-WINDOW:])


async def test_a_rare_term_is_gathered_from_the_index(searches: Searches) -> None:
    filed = await _file(
        searches, MAILBOX, ["Zebra crossing ahead."] + [f"Note {n}." for n in range(30)]
    )
    await _analyzed(searches)

    assert await searches.ids(MAILBOX, "zebr") == [filed[0]]
    assert not searches.walked()


@pytest.mark.parametrize("window", [WINDOW, 1000])
async def test_a_mailbox_sharing_the_tag_never_shows_its_messages(
    searches: Searches, window: int
) -> None:
    mine = await _file(searches, MAILBOX, ["Zebra crossing."] + [f"Note {n}." for n in range(60)])
    theirs = await _file(searches, NEIGHBOUR, [f"Zebra {n} seen." for n in range(30)])
    await _analyzed(searches)

    assert await searches.ids(MAILBOX, "zebra", window) == [mine[0]]
    # With a window of five, walking the mailbox is cheaper; with 1,000, gathering.
    assert searches.walked() == (window == WINDOW)
    assert sorted(await searches.ids(NEIGHBOUR, "zebra", window)) == sorted(theirs[-window:])


async def test_the_migration_tags_the_words_already_stored(databases: Databases) -> None:
    with databases.empty_postgres() as url:
        migrate.upgrade(url, "0010")
        async with _searches(url) as searches:
            filed = await _file(searches, MAILBOX, ["Marmalade on toast."], index=False)
            async with searches.writes.begin() as session:  # as 0010's filing indexed it
                await session.execute(
                    sa.text("UPDATE messages SET search_vector = to_tsvector('simple', body_text)")
                )
            migrate.upgrade(url)

            assert await searches.ids(MAILBOX, "marmal") == filed
