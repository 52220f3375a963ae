"""Reading the ledger: totals by identity, key, unit, kind and period; pages; full exports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.directory.keys import Principal
from tidings_server.errors import ValidationFailed
from tidings_server.store.models import UsageEntry
from tidings_server.store.repositories.usage import (
    SPEND_KINDS,
    LedgerFilter,
    LedgerRepository,
    UsageGroup,
)
from tidings_server.store.scope import Scope

MAX_GROUPS = 5000
EXPORT_BATCH = 500


@dataclass(frozen=True)
class Totals:
    spend: int
    earnings: int
    entries: int


class UsageReports:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.ledger = LedgerRepository(session, principal.scope)

    async def summary(
        self, filters: LedgerFilter, *, group_by: Sequence[str], period: str
    ) -> tuple[list[UsageGroup], Totals]:
        groups = await self.ledger.groups(
            filters, group_by=group_by, period=period, limit=MAX_GROUPS + 1
        )
        if len(groups) > MAX_GROUPS:
            raise ValidationFailed(
                f"The summary has more than {MAX_GROUPS} groups.",
                code="too_many_groups",
                param="period",
                fix="Narrow since/until, choose a longer period, or group by fewer fields.",
            )
        kinds = await self.ledger.groups(filters, group_by=["kind"], period="total", limit=100)
        by_kind = {group.keys["kind"]: group for group in kinds}
        totals = Totals(
            spend=sum(by_kind[k].amount for k in SPEND_KINDS if k in by_kind),
            earnings=by_kind["marketplace_earning"].amount
            if "marketplace_earning" in by_kind
            else 0,
            entries=sum(group.entries for group in kinds),
        )
        return groups, totals

    async def page(
        self, before: str | None, filters: LedgerFilter, *, limit: int
    ) -> tuple[list[UsageEntry], bool]:
        """Newest first from the cursor position `before` (a booking sequence number)."""
        position = int(before) if before is not None and before.isdigit() else None
        return await self.ledger.before(position, filters, limit=limit)


async def export(
    reads: async_sessionmaker[AsyncSession], scope: Scope, filters: LedgerFilter
) -> AsyncIterator[list[UsageEntry]]:
    """Every matching entry oldest first, a batch per short read transaction, so an export of
    any size holds neither a transaction nor the whole ledger in memory."""
    position = 0
    while True:
        async with reads() as session:
            batch = await LedgerRepository(session, scope).after(
                position, filters, limit=EXPORT_BATCH
            )
        if not batch:
            return
        yield batch
        position = batch[-1].seq
