"""Directory answers remembered within one transaction, and forgotten when they may change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.server.store.test_inserts import IDENTITY, MAILBOX, ORG, thread
from tidings_server.store.memo import remembered
from tidings_server.store.models import Mailbox, Webhook
from tidings_server.store.repositories import MailboxRepository
from tidings_server.store.scope import Scope

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def counting_webhooks(session: AsyncSession) -> tuple[list[int], Callable[[], Awaitable[int]]]:
    loads = [0]

    async def load() -> int:
        loads[0] += 1
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Webhook)) or 0)

    return loads, load


async def test_one_transaction_asks_once_for_each_key(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    async with writes.begin() as session:
        loads, load = counting_webhooks(session)
        answers = [await remembered(session, ("webhooks", ORG), load) for _ in range(3)]
        await remembered(session, ("webhooks", "another org"), load)

    assert answers == [0, 0, 0]
    assert loads == [2]


async def test_a_directory_change_in_the_transaction_is_seen_pending_or_flushed(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    async with writes.begin() as session:
        loads, load = counting_webhooks(session)
        assert await remembered(session, "webhooks", load) == 0
        session.add(
            Webhook(
                id="whk_memo", org_id=ORG, identity_id=None, mailbox_id=None,
                url="https://example.org/hook", secret="whsec_x", headers={},
                event_types=["message.received"], created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        assert await remembered(session, "webhooks", load) == 1  # pending: forgotten
        mailbox = await session.get(Mailbox, MAILBOX)
        assert mailbox is not None
        mailbox.display_name = "Memo"
        await session.flush()
        assert await remembered(session, "webhooks", load) == 1  # flushed: forgotten too

    assert loads == [3]


async def test_other_changes_keep_what_is_remembered(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    async with writes.begin() as session:
        loads, load = counting_webhooks(session)
        await remembered(session, "webhooks", load)
        session.add(thread("thr_memo"))
        await session.flush()
        await remembered(session, "webhooks", load)

    assert loads == [1]


async def test_each_transaction_asks_again(writes: async_sessionmaker[AsyncSession]) -> None:
    async with writes() as session:
        loads, load = counting_webhooks(session)
        async with session.begin():
            await remembered(session, "webhooks", load)
        async with session.begin():
            await remembered(session, "webhooks", load)

    assert loads == [2]


async def test_a_mailbox_found_with_its_identity_answers_the_lookup_without_it(
    writes: async_sessionmaker[AsyncSession],
) -> None:
    statements: list[str] = []
    async with writes.begin() as session:
        mailboxes = MailboxRepository(session, Scope(ORG))
        sa.event.listen(
            (await session.connection()).sync_engine,
            "before_cursor_execute",
            lambda _conn, _cursor, statement, *_rest: statements.append(statement),
        )
        sent_from = await mailboxes.find("INS@inserts.test", with_identity=True)
        answered_with = await mailboxes.find("ins@inserts.test")
        assert sent_from is not None
        assert answered_with is sent_from
        assert sent_from.identity.id == IDENTITY
        assert len(statements) == 1
        answered_with.display_name = "Renamed"  # a directory change: asked again from here
        again = await mailboxes.find("ins@inserts.test")
        assert again is not None
        assert again.display_name == "Renamed"
        assert len(statements) == 3  # the rename's flush, then the lookup
        assert await MailboxRepository(session, Scope("another org")).find(MAILBOX) is None
