"""Queries on identities and their mailboxes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from tidings_server.store.memo import remembered
from tidings_server.store.models import Identity, Mailbox
from tidings_server.store.repositories.base import ScopedRepository
from tidings_server.store.scope import BoundScope, ScopedQuery


def mailbox_key(address_or_id: str) -> tuple[bool, str]:
    """How a path names its mailbox: (by id?, the value to match). Ids are `mbx_...`; an
    address matches in any case."""
    if address_or_id.startswith("mbx_"):
        return True, address_or_id
    return False, address_or_id.strip().lower()


def mailbox_bound(by_id: bool) -> sa.ColumnElement[bool]:
    """The mailbox a path names, for a statement built once: `mailbox_key`'s value binds as
    `mailbox`."""
    return (Mailbox.id if by_id else Mailbox.address) == sa.bindparam("mailbox")


def _find(by_id: bool, with_identity: bool) -> ScopedQuery[Mailbox]:
    def build(scope: BoundScope) -> sa.Select[Mailbox]:
        stmt = sa.select(Mailbox).where(*scope.where(Mailbox), mailbox_bound(by_id))
        return stmt.options(joinedload(Mailbox.identity)) if with_identity else stmt

    return ScopedQuery(build)


# Nearly every request names a mailbox in its path: these are built once.
_FIND = {(i, w): _find(i, w) for i in (True, False) for w in (True, False)}


class IdentityRepository(ScopedRepository[Identity]):
    model = Identity

    def _loading(self, stmt: sa.Select[Identity]) -> sa.Select[Identity]:
        return stmt.options(selectinload(Identity.mailbox))

    async def get_by_handle(self, handle: str) -> Identity | None:
        stmt = self._loading(self._select().where(Identity.handle == handle))
        identity: Identity | None = await self.session.scalar(stmt)
        return identity

    async def handle_taken(self, handle: str) -> bool:
        stmt = sa.select(sa.literal(1)).where(
            *self.scope.where(Identity), Identity.handle == handle
        )
        return await self.session.scalar(stmt) is not None


class MailboxRepository(ScopedRepository[Mailbox]):
    model = Mailbox

    async def find(self, address_or_id: str, *, with_identity: bool = False) -> Mailbox | None:
        """By id (`mbx_...`) or address; `with_identity` joins the identity into the same query."""
        by_id, value = mailbox_key(address_or_id)

        async def load() -> Mailbox | None:
            stmt, params = _FIND[by_id, with_identity].bind(self.scope, mailbox=value)
            mailbox: Mailbox | None = await self.session.scalar(stmt, params)
            return mailbox

        key = ("mailbox", self.scope, by_id, value)
        # The mailbox with its identity also answers the question without it.
        also = [(*key, False)] if with_identity else []
        return await remembered(self.session, (*key, with_identity), load, also=also)

    async def address_taken(self, address: str) -> bool:
        # Addresses are unique across organisations, so this check is deliberately unscoped:
        # it returns only a yes/no and no tenant data.
        stmt = sa.select(sa.literal(1)).where(Mailbox.address == address)
        return await self.session.scalar(stmt) is not None
