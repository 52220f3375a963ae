"""Queries on messages, threads, attachments and events, plus SMTP's recipient routing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from tidings_server.store.memo import remembered
from tidings_server.store.models import Identity, Mailbox, Message, Thread
from tidings_server.store.repositories.base import ScopedRepository
from tidings_server.store.repositories.identities import mailbox_bound, mailbox_key
from tidings_server.store.scope import BoundScope, ScopedQuery

# Asked once at RCPT and again as each message is filed: built once.
_MAILBOX_AT = (
    sa.select(Mailbox, Identity)
    .join(Identity, Identity.id == Mailbox.identity_id)
    .where(Mailbox.address == sa.bindparam("address"))
)


class MailRouting:
    """Which mailbox an SMTP recipient is: asked before any tenant is known, returns only that."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def mailbox_for(self, address: str) -> tuple[Mailbox, Identity] | None:
        async def load() -> tuple[Mailbox, Identity] | None:
            row = (await self.session.execute(_MAILBOX_AT, {"address": address})).first()
            return (row[0], row[1]) if row else None

        return await remembered(self.session, ("mailbox_at", address), load)


def _message_in_mailbox(by_id: bool) -> ScopedQuery[Message, Mailbox]:
    def build(scope: BoundScope) -> sa.Select[Message, Mailbox]:
        return (
            sa.select(Message, Mailbox)
            .join(Mailbox, Mailbox.id == Message.mailbox_id)
            .where(
                *scope.where(Message),
                *scope.where(Mailbox),
                Message.id == sa.bindparam("message_id"),
                mailbox_bound(by_id),
            )
            .options(joinedload(Message.attachments))
        )

    return ScopedQuery(build)


# The hottest read: built once for each way of naming the mailbox.
_MESSAGE_IN_MAILBOX = {by_id: _message_in_mailbox(by_id) for by_id in (True, False)}


class MessageRepository(ScopedRepository[Message]):
    model = Message

    def _loading(self, stmt: sa.Select[Message]) -> sa.Select[Message]:
        return stmt.options(selectinload(Message.attachments))

    async def get(self, id_: str) -> Message | None:
        # One message: its attachments join the same query rather than follow in a second.
        stmt = self._select().where(Message.id == id_).options(joinedload(Message.attachments))
        return (await self.session.scalars(stmt)).unique().first()

    async def get_in_mailbox(
        self, id_: str, mailbox_address_or_id: str
    ) -> tuple[Message, Mailbox] | None:
        """The message, if it is in that mailbox, with the mailbox: one query for both."""
        by_id, mailbox = mailbox_key(mailbox_address_or_id)
        stmt, params = _MESSAGE_IN_MAILBOX[by_id].bind(self.scope, message_id=id_, mailbox=mailbox)
        row = (await self.session.execute(stmt, params)).unique().first()
        return (row[0], row[1]) if row else None

    async def by_rfc_ids(self, mailbox_id: str, rfc_ids: list[str]) -> list[Message]:
        if not rfc_ids:
            return []
        stmt = self._select().where(
            Message.mailbox_id == mailbox_id, Message.rfc_message_id.in_(rfc_ids)
        )
        return list(await self.session.scalars(stmt))

    async def in_thread(self, thread_id: str) -> list[Message]:
        stmt = self._loading(self._select().where(Message.thread_id == thread_id))
        return list(await self.session.scalars(stmt.order_by(Message.id)))


def _recent_by_subject(scope: BoundScope) -> sa.Select[Thread]:
    return (
        sa.select(Thread)
        .where(
            *scope.where(Thread),
            Thread.mailbox_id == sa.bindparam("mailbox_id"),
            Thread.subject_key == sa.bindparam("subject_key"),
            Thread.last_message_at >= sa.bindparam("since"),
        )
        .order_by(Thread.last_message_at.desc())
        .limit(20)
    )


_RECENT_BY_SUBJECT = ScopedQuery(_recent_by_subject)  # every message filed with a subject


class ThreadRepository(ScopedRepository[Thread]):
    model = Thread

    async def recent_by_subject(
        self, mailbox_id: str, subject_key: str, since: datetime
    ) -> list[Thread]:
        stmt, params = _RECENT_BY_SUBJECT.bind(
            self.scope, mailbox_id=mailbox_id, subject_key=subject_key, since=since
        )
        return list(await self.session.scalars(stmt, params))
