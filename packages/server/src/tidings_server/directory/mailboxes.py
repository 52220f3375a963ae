"""Mailboxes: the hosted address of an identity, addressed in the API by that address."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.clock import Clock
from tidings_server.directory.keys import Principal
from tidings_server.directory.recent import directory_changed
from tidings_server.errors import NotFound
from tidings_server.store.models import Mailbox
from tidings_server.store.repositories import MailboxRepository, Page, PageRequest


class MailboxService:
    def __init__(self, session: AsyncSession, principal: Principal, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.mailboxes = MailboxRepository(session, principal.scope)

    async def get(self, address_or_id: str, *, with_identity: bool = False) -> Mailbox:
        """The mailbox; `with_identity` also loads `mailbox.identity`."""
        found = await self.mailboxes.find(address_or_id, with_identity=with_identity)
        if found is None:
            raise NotFound(f"No mailbox {address_or_id!r}.", param="address")
        return found

    async def list(self, page: PageRequest) -> Page[Mailbox]:
        return await self.mailboxes.page(page)

    async def update(self, address_or_id: str, changes: Mapping[str, object]) -> Mailbox:
        """Apply the fields the caller sent (only `display_name` is editable)."""
        mailbox = await self.get(address_or_id)
        unknown = set(changes) - {"display_name"}
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        if "display_name" in changes:
            mailbox.display_name = cast(str | None, changes["display_name"])
            directory_changed(self.session)  # its name is remembered (mail.sending)
        mailbox.updated_at = self.clock.now()
        await self.session.flush()
        return mailbox
