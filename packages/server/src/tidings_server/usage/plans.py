"""Setting what identities charge (pricing plans) and what identities and keys may send (quotas).

Only a root key sets either; an agent key may read its own identity's and its own key's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.clock import Clock
from tidings_server.directory.identities import require_root
from tidings_server.directory.keys import Principal
from tidings_server.store.models import ApiKey, Identity, PricingPlan, Quota
from tidings_server.store.repositories.usage import PricingRepository, QuotaRepository
from tidings_server.usage.quotas import LIMITS, Quotas, Standing


class PricingService:
    def __init__(self, session: AsyncSession, principal: Principal, clock: Clock) -> None:
        self.session = session
        self.principal = principal
        self.clock = clock
        self.plans = PricingRepository(session, principal.scope)

    async def get(self, identity: Identity) -> PricingPlan | None:
        return await self.plans.get(identity.id)

    async def put(
        self, identity: Identity, prices: Mapping[str, Any], currency: str
    ) -> PricingPlan | None:
        """Replace the identity's plan; a plan with no price at all is removed."""
        require_root(self.principal, "set prices")
        plan = await self.plans.get(identity.id)
        if all(value is None or value == {} for value in prices.values()):
            if plan is not None:
                await self.plans.delete(plan)
                await self.session.flush()
            return None
        now = self.clock.now()
        if plan is None:
            plan = self.plans.add(
                PricingPlan(identity_id=identity.id, org_id=identity.org_id, created_at=now)
            )
        for name, value in prices.items():
            setattr(plan, name, value)
        plan.currency = currency
        plan.updated_at = now
        await self.session.flush()
        return plan


class QuotaService:
    def __init__(self, session: AsyncSession, principal: Principal, clock: Clock) -> None:
        self.session = session
        self.principal = principal
        self.clock = clock
        self.quotas = QuotaRepository(session, principal.scope)

    async def standings(self, subject: Identity | ApiKey) -> list[Standing]:
        """Each limit of the subject with how much of it is used now."""
        quota = await self.quotas.get(subject.id) or _unlimited(subject, self.clock.now())
        found = await Quotas(self.session, self.principal.scope).standings(quota, self.clock.now())
        return [standing for standing, _added in found]

    async def put(self, subject: Identity | ApiKey, limits: Mapping[str, int | None]) -> None:
        """Replace the subject's limits; with none left, it has no quota row at all."""
        require_root(self.principal, "set quotas")
        quota = await self.quotas.get(subject.id)
        if all(limits.get(name) is None for name in LIMITS):
            if quota is not None:
                await self.quotas.delete(quota)
            await self.session.flush()
            return
        now = self.clock.now()
        if quota is None:
            quota = self.quotas.add(_unlimited(subject, now))
        for name in LIMITS:
            setattr(quota, name, limits.get(name))
        quota.updated_at = now
        await self.session.flush()


def _unlimited(subject: Identity | ApiKey, now: datetime) -> Quota:
    return Quota(
        subject_id=subject.id,
        org_id=subject.org_id,
        identity_id=subject.id if isinstance(subject, Identity) else subject.identity_id,
        subject_kind="identity" if isinstance(subject, Identity) else "api_key",
        created_at=now,
        updated_at=now,
        **dict.fromkeys(LIMITS),
    )
