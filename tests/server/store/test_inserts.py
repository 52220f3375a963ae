"""Rows written with Core statements stay in the session as if loaded, on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.store import migrate
from tidings_server.store.engine import create_engine, session_factory
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import (
    Attachment,
    Delivery,
    Event,
    Identity,
    Mailbox,
    Message,
    Organisation,
    Thread,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ORG, IDENTITY, MAILBOX = "org_ins", "idn_ins", "mbx_ins"


@dataclass
class Store:
    writes: async_sessionmaker[AsyncSession]
    statements: list[str]

    async def scalar(self, sql: str) -> object:
        async with self.writes() as session:
            return await session.scalar(sa.text(sql))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    migrate.upgrade(database_url)
    engine = create_engine(database_url, inline=True)
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql.split()[0].upper())

    writes = session_factory(engine, writes=True)
    await seed_mailbox(writes)
    yield Store(writes, statements)
    await engine.dispose()


async def seed_mailbox(writes: async_sessionmaker[AsyncSession]) -> None:
    """An organisation with one identity and its mailbox, for rows to belong to."""
    async with writes.begin() as session:
        session.add(Organisation(id=ORG, name="Store tests", created_at=NOW))
        await session.flush()
        session.add(Identity(id=IDENTITY, org_id=ORG, handle="ins", created_at=NOW, updated_at=NOW))
        await session.flush()
        session.add(
            Mailbox(
                id=MAILBOX, org_id=ORG, identity_id=IDENTITY, address="ins@inserts.test",
                created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip


def thread(id_: str) -> Thread:
    return Thread(
        id=id_, org_id=ORG, identity_id=IDENTITY, mailbox_id=MAILBOX, subject="Hello",
        subject_key="hello", participants=["ana@example.org"], message_count=1,
        last_message_at=NOW, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def message(id_: str, thread_id: str) -> Message:
    row = Message(
        id=id_, org_id=ORG, identity_id=IDENTITY, mailbox_id=MAILBOX, thread_id=thread_id,
        thread_match="new", direction="inbound", status="received", rfc_message_id=None,
        in_reply_to=None, references=[], to=[], cc=[], bcc=[], reply_to=[], envelope_from=None,
        idempotency_key=None, correlation_id=None, api_key_id=None, reservation_key=None,
        marketplace_request_id=None, usage=None, subject="Hello", preview="", body_text="Hi",
        body_html=None, extracted_text=None, headers=[], parse_warnings=[], size=2,
        raw_blob="raw", sent_at=None, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    row.set_from([{"name": "Ana", "address": "ana@example.org"}])
    row.set_labels([])
    row.attachments = [
        Attachment(
            id=f"{id_}_att{n}",
            org_id=ORG,
            identity_id=IDENTITY,
            message_id=id_,
            filename=f"{n}.txt",
            content_type="text/plain",
            size=1,
            content_id=None,
            blob=f"blob{n}",
        )
        for n in range(2)
    ]
    return row


def event_row(id_: str) -> Event:
    return Event(
        id=id_, org_id=ORG, identity_id=IDENTITY, mailbox_id=MAILBOX, type="message.received",
        data={"n": id_}, created_at=NOW,
    )  # fmt: skip


async def test_inserted_rows_are_in_the_session_and_later_changes_flush_as_updates(
    store: Store,
) -> None:
    async with store.writes.begin() as session:
        new = thread("thr_a")
        await insert_rows(session, [new])
        store.statements.clear()

        assert await session.get(Thread, "thr_a") is new
        assert store.statements == []  # found in the identity map, no query
        new.message_count += 1
        await session.flush()
        assert store.statements == ["UPDATE"]

    assert await store.scalar("SELECT message_count FROM threads WHERE id = 'thr_a'") == 2


async def test_rows_held_by_a_relationship_are_written_once_in_their_own_group(
    store: Store,
) -> None:
    async with store.writes.begin() as session:
        await insert_rows(session, [thread("thr_b")])
        filed = message("msg_b", "thr_b")
        await insert_rows(session, [filed], filed.attachments)
        store.statements.clear()
        await session.flush()
        assert store.statements == []  # nothing left pending: no second INSERT

    assert await store.scalar("SELECT count(*) FROM attachments WHERE message_id = 'msg_b'") == 2
    assert await store.scalar("SELECT from_address FROM messages WHERE id = 'msg_b'") == (
        "ana@example.org"
    )


async def test_autoincrement_keys_come_back_in_the_order_the_rows_were_given(
    store: Store,
) -> None:
    async with store.writes.begin() as session:
        events = [event_row(f"evt_{n}") for n in range(5)]
        await insert_rows(session, events)
        seqs = [e.seq for e in events]

    assert seqs == sorted(set(seqs))
    assert len(seqs) == 5
    async with store.writes() as session:
        stored = await session.execute(sa.select(Event.id, Event.seq).order_by(Event.seq))
        assert [tuple(row) for row in stored] == [(e.id, e.seq) for e in events]


async def test_unset_columns_take_their_default_or_null_and_read_without_a_query(
    store: Store,
) -> None:
    async with store.writes.begin() as session:
        await insert_rows(session, [thread("thr_c")], [message("msg_c", "thr_c")])
        job = Delivery(
            org_id=ORG, identity_id=IDENTITY, message_id="msg_c", recipient="bob@example.org",
            domain="example.org", route="mx", status="queued", next_attempt_at=NOW,
            expires_at=NOW, created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        await insert_rows(session, [job])
        store.statements.clear()

        assert (job.attempts, job.lease_until, job.last_error) == (0, None, None)
        assert isinstance(job.id, int)
        assert store.statements == []


async def test_a_row_missing_a_required_column_is_refused_before_anything_is_written(
    store: Store,
) -> None:
    incomplete = thread("thr_d")
    del incomplete.subject_key

    async with store.writes.begin() as session:
        with pytest.raises(ValueError, match=r"Thread\.subject_key must be set"):
            await insert_rows(session, [thread("thr_e"), incomplete])

    assert await store.scalar("SELECT count(*) FROM threads") == 0


async def test_rows_they_refer_to_that_are_still_pending_are_flushed_first(store: Store) -> None:
    async with store.writes.begin() as session:
        session.add(thread("thr_f"))  # pending, not yet flushed
        await insert_rows(session, [message("msg_f", "thr_f")])

    assert await store.scalar("SELECT thread_id FROM messages WHERE id = 'msg_f'") == "thr_f"


async def test_a_rollback_takes_inserted_rows_with_it(store: Store) -> None:
    async def the_same_key_twice() -> None:
        async with store.writes.begin() as session:
            await insert_rows(session, [thread("thr_g")])
            await insert_rows(session, [thread("thr_g")])

    with pytest.raises(IntegrityError):
        await the_same_key_twice()

    assert await store.scalar("SELECT count(*) FROM threads") == 0
