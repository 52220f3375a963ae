"""Queries on the event log: appending in commit order, reading after a position, fan-out."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.memo import remembered
from tidings_server.store.models import Event, Identity, Mailbox, Thread, Webhook
from tidings_server.store.repositories.base import ScopedRepository
from tidings_server.store.scope import BoundScope, Scope, ScopedQuery


def _order_lock_key(org_id: str) -> int:
    """A stable signed 64-bit key for the organisation's event-order advisory lock."""
    digest = hashlib.blake2b(f"tidings.events:{org_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# Both run for every event appended: built once.
def _identities_at(scope: BoundScope) -> sa.Select[Mailbox, Identity]:
    return (
        sa.select(Mailbox, Identity)
        .join(Identity, Identity.id == Mailbox.identity_id)
        .where(
            *scope.where(Mailbox),
            Mailbox.address.in_(sa.bindparam("addresses", expanding=True)),
        )
        .order_by(Mailbox.address)
    )


def _subscribers(scope: BoundScope) -> sa.Select[Webhook]:
    return (
        sa.select(Webhook)
        .where(
            *scope.where(Webhook),
            Webhook.enabled.is_(True),
            sa.or_(Webhook.identity_id.is_(None), Webhook.identity_id == sa.bindparam("identity")),
            sa.or_(Webhook.mailbox_id.is_(None), Webhook.mailbox_id == sa.bindparam("mailbox")),
        )
        .order_by(Webhook.id)
    )


_IDENTITIES_AT = ScopedQuery(_identities_at)
_SUBSCRIBERS = ScopedQuery(_subscribers)


class EventWriting:
    """What appending an event of one organisation asks of the store."""

    def __init__(self, session: AsyncSession, org_id: str) -> None:
        self.session = session
        self.org_id = org_id
        self.scope = Scope(org_id)

    async def hold_order(self) -> None:
        """Make this organisation's events commit in `seq` order.

        A reader that has seen `seq` N must never later find a committed event below N, or a
        cursor would skip it. SQLite writers are already serial; on PostgreSQL concurrent
        transactions would take sequence numbers in one order and commit in another, so each
        appender holds a per-organisation lock until its transaction ends.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            key = _order_lock_key(self.org_id)
            await self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))

    # By primary key through the session: a row this unit of work already holds (the thread a
    # message was just filed in) costs no query. The organisation is checked on the row.
    async def thread(self, thread_id: str) -> Thread | None:
        thread = await self.session.get(Thread, thread_id)
        return thread if thread is not None and thread.org_id == self.org_id else None

    async def mailbox(self, mailbox_id: str) -> Mailbox | None:
        mailbox = await self.session.get(Mailbox, mailbox_id)
        return mailbox if mailbox is not None and mailbox.org_id == self.org_id else None

    async def mailbox_of(self, identity_id: str) -> Mailbox | None:
        return await self.session.scalar(
            sa.select(Mailbox).where(
                Mailbox.org_id == self.org_id, Mailbox.identity_id == identity_id
            )
        )

    async def identities_at(self, addresses: set[str]) -> list[tuple[Mailbox, Identity]]:
        """The organisation's identities whose mailbox is one of `addresses`."""
        if not addresses:
            return []
        ordered = sorted(addresses)

        async def load() -> list[tuple[Mailbox, Identity]]:
            stmt, params = _IDENTITIES_AT.bind(self.scope, addresses=ordered)
            return [(row[0], row[1]) for row in await self.session.execute(stmt, params)]

        return await remembered(self.session, ("identities_at", self.org_id, *ordered), load)

    async def subscribers(self, event: Event) -> list[Webhook]:
        """Enabled subscriptions whose owner covers `event` and that asked for its type."""

        async def load() -> list[Webhook]:
            stmt, params = _SUBSCRIBERS.bind(
                self.scope, identity=event.identity_id, mailbox=event.mailbox_id
            )
            return list(await self.session.scalars(stmt, params))

        key = ("subscribers", self.org_id, event.identity_id, event.mailbox_id)
        webhooks = await remembered(self.session, key, load)
        return [w for w in webhooks if event.type in w.event_types]


class EventRepository(ScopedRepository[Event]):
    """Reading the log in order, inside the caller's scope."""

    model = Event

    async def seq_of(self, event_id: str) -> int | None:
        stmt = self.scope.select(Event).with_only_columns(Event.seq).where(Event.id == event_id)
        seq: int | None = await self.session.scalar(stmt)
        return seq

    async def after(
        self,
        seq: int,
        *,
        limit: int,
        types: tuple[str, ...] = (),
        mailbox_id: str | None = None,
    ) -> list[Event]:
        """Up to `limit` events after `seq`, oldest first."""
        stmt = self._select().where(Event.seq > seq)
        if types:
            stmt = stmt.where(Event.type.in_(types))
        if mailbox_id is not None:
            stmt = stmt.where(Event.mailbox_id == mailbox_id)
        return list(await self.session.scalars(stmt.order_by(Event.seq).limit(limit)))

    async def last_seq(self) -> int:
        """Where the log ends now: a stream that starts here shows only new events."""
        stmt = self.scope.select(Event).with_only_columns(sa.func.max(Event.seq))
        return int(await self.session.scalar(stmt) or 0)
