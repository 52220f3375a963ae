"""API key management: minting scoped keys, listing them without secrets, revoking them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.clock import Clock
from tidings_server.directory.identities import require_root
from tidings_server.directory.keys import KeyKind, Principal, mint_key
from tidings_server.directory.recent import directory_changed
from tidings_server.errors import Conflict, NotFound, ValidationFailed
from tidings_server.store.models import ApiKey
from tidings_server.store.repositories import (
    ApiKeyRepository,
    IdentityRepository,
    Page,
    PageRequest,
)
from tidings_server.store.scope import Scope


@dataclass(frozen=True)
class CreatedKey:
    row: ApiKey
    plaintext: str


def new_key_row(
    *,
    org_id: str,
    name: str,
    kind: KeyKind,
    identity_id: str | None,
    now: datetime,
    expires_at: datetime | None = None,
) -> CreatedKey:
    minted = mint_key(kind)
    row = ApiKey(
        id=ids.new_id("key"),
        org_id=org_id,
        identity_id=identity_id,
        name=name,
        kind=kind,
        lookup=minted.lookup,
        secret_hash=minted.secret_hash,
        prefix=minted.prefix,
        created_at=now,
        expires_at=expires_at,
    )
    return CreatedKey(row=row, plaintext=minted.plaintext)


def _active() -> sa.ColumnElement[bool]:
    return ApiKey.revoked_at.is_(None)


class ApiKeyService:
    def __init__(self, session: AsyncSession, principal: Principal, clock: Clock) -> None:
        self.session = session
        self.principal = principal
        self.clock = clock
        self.keys = ApiKeyRepository(session, principal.scope)

    async def create(
        self,
        *,
        name: str,
        kind: KeyKind,
        identity: str | None,
        expires_at: datetime | None,
    ) -> CreatedKey:
        require_root(self.principal, "create API keys")
        now = self.clock.now()
        if kind == "agent" and identity is None:
            raise ValidationFailed(
                "An agent key acts for one identity.",
                code="missing_field",
                param="identity_id",
                fix="Pass `identity_id` (or the identity's handle) for an agent key.",
            )
        if kind == "root" and identity is not None:
            raise ValidationFailed(
                "A root key acts for the whole organisation and takes no identity.",
                code="invalid_field",
                param="identity_id",
                fix="Drop `identity_id`, or create an agent key with `kind: agent`.",
            )
        if expires_at is not None and expires_at <= now:
            raise ValidationFailed(
                "`expires_at` is in the past.",
                code="invalid_field",
                param="expires_at",
                fix="Give a future time with a timezone, e.g. 2030-01-01T00:00:00Z.",
            )
        identity_id = None
        if identity is not None:
            identities = IdentityRepository(self.session, Scope(self.principal.org_id))
            found = await (
                identities.get(identity)
                if identity.startswith("idn_")
                else identities.get_by_handle(identity)
            )
            if found is None:
                raise NotFound(f"No identity {identity!r}.", param="identity_id")
            identity_id = found.id
        created = new_key_row(
            org_id=self.principal.org_id,
            name=name,
            kind=kind,
            identity_id=identity_id,
            now=now,
            expires_at=expires_at,
        )
        self.keys.add(created.row)
        await self.session.flush()
        return created

    async def list(self, page: PageRequest) -> Page[ApiKey]:
        return await self.keys.page(page, _active())

    async def get(self, key_id: str) -> ApiKey:
        row = await self.keys.get(key_id)
        if row is None or row.revoked_at is not None:
            raise NotFound(f"No API key {key_id!r}.", param="id")
        return row

    async def revoke(self, key_id: str) -> ApiKey:
        row = await self.get(key_id)
        if row.kind == "root" and await self._last_active_root(row):
            raise Conflict(
                "This is the organisation's last root key; revoking it would lock everyone out.",
                code="last_root_key",
                param="id",
                fix="Create another root key first, then revoke this one.",
            )
        row.revoked_at = self.clock.now()
        directory_changed(self.session)
        await self.session.flush()
        return row

    async def _last_active_root(self, row: ApiKey) -> bool:
        others = await self.keys.page(
            PageRequest(limit=1), _active(), ApiKey.kind == "root", ApiKey.id != row.id
        )
        return not others.items
