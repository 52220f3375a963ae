"""Queries on identities and their mailboxes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from tidings_server.store.models import Identity, Mailbox
from tidings_server.store.repositories.base import ScopedRepository


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

    async def get_by_address(self, address: str) -> Mailbox | None:
        stmt = self._select().where(Mailbox.address == address)
        mailbox: Mailbox | None = await self.session.scalar(stmt)
        return mailbox

    async def address_taken(self, address: str) -> bool:
        # Addresses are unique across organisations, so this check is deliberately unscoped:
        # it returns only a yes/no and no tenant data.
        stmt = sa.select(sa.literal(1)).where(Mailbox.address == address)
        return await self.session.scalar(stmt) is not None
