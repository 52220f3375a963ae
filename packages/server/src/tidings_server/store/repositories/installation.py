"""Installation-wide rows that belong to no tenant: organisations and server secrets."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.models import Organisation, ServerSecret
from tidings_server.store.repositories.dialect import upsert


class InstallationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_organisation(self) -> Organisation | None:
        stmt = sa.select(Organisation).order_by(Organisation.id).limit(1)
        return await self.session.scalar(stmt)

    async def get_organisation(self, org_id: str) -> Organisation | None:
        return await self.session.get(Organisation, org_id)

    def add_organisation(self, org: Organisation) -> None:
        self.session.add(org)

    async def claim_once(self, name: str, now: datetime) -> bool:
        """True for exactly one caller ever, across processes: for one-time set-up steps."""
        claimed = await self.session.scalar(
            upsert(self.session, ServerSecret)
            .values(name=name, value="claimed", created_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(ServerSecret.name)
        )
        return claimed is not None

    async def secret(self, name: str, now: datetime) -> str:
        """The named secret, created on first use; concurrent first uses agree on one value."""
        await self.session.execute(
            upsert(self.session, ServerSecret)
            .values(name=name, value=secrets.token_urlsafe(32), created_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = await self.session.scalar(
            sa.select(ServerSecret.value).where(ServerSecret.name == name)
        )
        assert value is not None
        return value
