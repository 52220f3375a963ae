"""Queries on identities and their mailboxes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from tidings_server.store.models import Identity, Mailbox
from tidings_server.store.repositories.base import ScopedRepository


def mailbox_key(address_or_id: str) -> tuple[bool, str]:
    """How a path names its mailbox: (by id?, the value to match). Ids are `mbx_...`; an
    address matches in any case."""
    if address_or_id.startswith("mbx_"):
        return True, address_or_id
    return False, address_or_id.strip().lower()


def mailbox_named(address_or_id: str) -> sa.ColumnElement[bool]:
    """The mailbox a path names: by id (`mbx_...`) or by address, in any case."""
    by_id, value = mailbox_key(address_or_id)
    return (Mailbox.id if by_id else Mailbox.address) == value


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
        stmt = self._select().where(mailbox_named(address_or_id))
        if with_identity:
            stmt = stmt.options(joinedload(Mailbox.identity))
        mailbox: Mailbox | None = await self.session.scalar(stmt)
        return mailbox

    async def address_taken(self, address: str) -> bool:
        # Addresses are unique across organisations, so this check is deliberately unscoped:
        # it returns only a yes/no and no tenant data.
        stmt = sa.select(sa.literal(1)).where(Mailbox.address == address)
        return await self.session.scalar(stmt) is not None
