"""Identities: an agent's name in the system, provisioned with a mailbox `handle@domain`."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.clock import Clock
from tidings_server.directory.handles import validate_handle
from tidings_server.directory.keys import Principal
from tidings_server.directory.recent import directory_changed
from tidings_server.errors import Conflict, Forbidden, NotFound
from tidings_server.store.models import Identity, Mailbox
from tidings_server.store.repositories import (
    ApiKeyRepository,
    IdentityRepository,
    MailboxRepository,
    Page,
    PageRequest,
)

EDITABLE = frozenset({"display_name", "description", "status"})


def require_root(principal: Principal, action: str) -> None:
    if not principal.is_root:
        raise Forbidden(f"An agent key cannot {action}.", param="authorization")


class IdentityService:
    def __init__(
        self, session: AsyncSession, principal: Principal, clock: Clock, *, domain: str
    ) -> None:
        self.principal = principal
        self.clock = clock
        self.domain = domain
        self.identities = IdentityRepository(session, principal.scope)
        self.mailboxes = MailboxRepository(session, principal.scope)
        self.keys = ApiKeyRepository(session, principal.scope)
        self.session = session

    async def create(
        self, handle: str, *, display_name: str | None = None, description: str | None = None
    ) -> Identity:
        require_root(self.principal, "create identities")
        handle = validate_handle(handle)
        address = f"{handle}@{self.domain}"
        if await self.identities.handle_taken(handle) or await self.mailboxes.address_taken(
            address
        ):
            raise Conflict(f"The handle {handle!r} is already taken.", param="handle")
        now = self.clock.now()
        identity = Identity(
            id=ids.new_id("idn"),
            org_id=self.principal.org_id,
            handle=handle,
            display_name=display_name,
            description=description,
            status="active",
            created_at=now,
            updated_at=now,
        )
        identity.mailbox = Mailbox(
            id=ids.new_id("mbx"),
            org_id=self.principal.org_id,
            identity_id=identity.id,
            address=address,
            created_at=now,
            updated_at=now,
        )
        self.identities.add(identity)
        await self.session.flush()
        return identity

    async def get(self, handle_or_id: str) -> Identity:
        if handle_or_id.startswith("idn_"):
            found = await self.identities.get(handle_or_id)
        else:
            found = await self.identities.get_by_handle(handle_or_id)
        if found is None:
            raise NotFound(f"No identity {handle_or_id!r}.", param="handle")
        return found

    async def list(self, page: PageRequest) -> Page[Identity]:
        return await self.identities.page(page)

    async def update(self, handle_or_id: str, changes: Mapping[str, object]) -> Identity:
        """Apply the fields the caller sent (a field sent as null clears it)."""
        identity = await self.get(handle_or_id)
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        for name, value in changes.items():
            setattr(identity, name, value)
        identity.updated_at = self.clock.now()
        directory_changed(self.session)  # its status and name are remembered (mail.sending)
        await self.session.flush()
        return identity

    async def delete(self, handle_or_id: str) -> Identity:
        require_root(self.principal, "delete identities")
        identity = await self.get(handle_or_id)
        # Keys outlive the identity as revoked rows, so their holders get `api_key_revoked`.
        await self.keys.revoke_for_identity(identity.id, self.clock.now())
        directory_changed(self.session)
        await self.identities.delete(identity)
        await self.session.flush()
        return identity
