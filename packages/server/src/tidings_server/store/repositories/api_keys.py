"""Queries on API keys: scoped management, and the one unscoped lookup authentication needs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.models import ApiKey
from tidings_server.store.repositories.base import ScopedRepository


class ApiKeyRepository(ScopedRepository[ApiKey]):
    model = ApiKey

    async def revoke_for_identity(self, identity_id: str, now: datetime) -> None:
        stmt = (
            sa.update(ApiKey)
            .where(*self.scope.where(ApiKey), ApiKey.identity_id == identity_id)
            .where(ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self.session.execute(stmt)


class CredentialLookup:
    """Finds a key by its public lookup part before any scope exists: authentication only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_lookup(self, lookup: str) -> ApiKey | None:
        return await self.session.scalar(sa.select(ApiKey).where(ApiKey.lookup == lookup))

    async def touch(self, key_id: str, now: datetime) -> None:
        await self.session.execute(
            sa.update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
        )
