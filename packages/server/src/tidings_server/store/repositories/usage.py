"""Queries on usage: the ledger, pricing plans, quotas and their counters, marketplace requests."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from tidings_server.store.models import (
    MarketplaceRequest,
    PricingPlan,
    Quota,
    QuotaRecipient,
    UsageEntry,
)
from tidings_server.store.repositories.base import ClaimQuery, ScopedRepository
from tidings_server.store.repositories.dialect import insert_or_ignore
from tidings_server.store.scope import BoundScope, ScopedQuery

Subject = Literal["identity", "api_key"]
SPEND_KINDS = ("usage", "marketplace_charge")
PERIODS = ("hour", "day", "month", "total")
GROUPS = {"identity": "identity_id", "key": "api_key_id", "unit": "unit", "kind": "kind"}


def _subject_column(model: Any, subject: Subject) -> sa.ColumnElement[Any]:
    column: sa.ColumnElement[Any] = getattr(model, f"{subject}_id")
    return column


@dataclass(frozen=True)
class LedgerFilter:
    identity_id: str | None = None
    api_key_id: str | None = None
    unit: str | None = None
    kind: str | None = None
    correlation_id: str | None = None
    marketplace_request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        equal = {
            UsageEntry.identity_id: self.identity_id,
            UsageEntry.api_key_id: self.api_key_id,
            UsageEntry.unit: self.unit,
            UsageEntry.kind: self.kind,
            UsageEntry.correlation_id: self.correlation_id,
            UsageEntry.marketplace_request_id: self.marketplace_request_id,
        }
        clauses = [column == value for column, value in equal.items() if value is not None]
        if self.since is not None:
            clauses.append(UsageEntry.created_at >= self.since)
        if self.until is not None:
            clauses.append(UsageEntry.created_at < self.until)
        return clauses


@dataclass(frozen=True)
class UsageGroup:
    period_start: str | None
    keys: dict[str, str | None]
    quantity: int
    amount: int
    entries: int


def _bucket(dialect: str, period: str) -> sa.ColumnElement[str]:
    """The ISO start of the period a ledger row falls in, as text, on either engine."""
    if dialect == "sqlite":
        pattern = {"hour": "%Y-%m-%dT%H:00:00Z", "day": "%Y-%m-%dT00:00:00Z"}.get(
            period, "%Y-%m-01T00:00:00Z"
        )
        return sa.func.strftime(pattern, UsageEntry.created_at)
    truncated = sa.func.date_trunc(period, sa.func.timezone("UTC", UsageEntry.created_at))
    return sa.func.to_char(truncated, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')


class LedgerRepository(ScopedRepository[UsageEntry]):
    """The ledger is append-only: this repository adds and reads, never changes or deletes."""

    model = UsageEntry

    async def delete(self, row: UsageEntry) -> None:
        raise PermissionError("the usage ledger is append-only")

    async def before(
        self, seq: int | None, filters: LedgerFilter, *, limit: int
    ) -> tuple[list[UsageEntry], bool]:
        """A page newest first (in booking order, as exports are) before position `seq`."""
        stmt = self._select().where(*filters.clauses())
        if seq is not None:
            stmt = stmt.where(UsageEntry.seq < seq)
        stmt = stmt.order_by(UsageEntry.seq.desc()).limit(limit + 1)
        rows = list(await self.session.scalars(stmt))
        return rows[:limit], len(rows) > limit

    async def after(self, seq: int, filters: LedgerFilter, *, limit: int) -> list[UsageEntry]:
        """Entries oldest first after position `seq`, for exports."""
        stmt = (
            self._select()
            .where(UsageEntry.seq > seq, *filters.clauses())
            .order_by(UsageEntry.seq)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def groups(
        self, filters: LedgerFilter, *, group_by: Sequence[str], period: str, limit: int
    ) -> list[UsageGroup]:
        columns = [getattr(UsageEntry, GROUPS[name]) for name in group_by]
        bucket = (
            None if period == "total" else _bucket(self.session.get_bind().dialect.name, period)
        )
        keys = [*([bucket.label("period_start")] if bucket is not None else []), *columns]
        stmt = (
            sa.select(
                *keys,
                sa.func.sum(UsageEntry.quantity),
                sa.func.sum(UsageEntry.amount),
                sa.func.count(),
            )
            .where(*self.scope.where(UsageEntry), *filters.clauses())
            .group_by(*keys)
            .order_by(*keys)
            .limit(limit)
        )
        result = []
        for row in await self.session.execute(stmt):
            values = list(row)
            start = values.pop(0) if bucket is not None else None
            quantity, amount, entries = values[-3:]
            result.append(
                UsageGroup(
                    period_start=start,
                    keys=dict(zip(group_by, values[: len(group_by)], strict=True)),
                    quantity=int(quantity or 0),
                    amount=int(amount or 0),
                    entries=int(entries),
                )
            )
        return result

    async def count_since(
        self, subject: Subject, subject_id: str, unit: str, since: datetime
    ) -> int:
        stmt = sa.select(sa.func.count()).where(
            *self.scope.where(UsageEntry),
            _subject_column(UsageEntry, subject) == subject_id,
            UsageEntry.unit == unit,
            UsageEntry.created_at >= since,
        )
        return int(await self.session.scalar(stmt) or 0)

    async def spend_since(self, subject: Subject, subject_id: str, since: datetime) -> int:
        stmt = sa.select(sa.func.coalesce(sa.func.sum(UsageEntry.amount), 0)).where(
            *self.scope.where(UsageEntry),
            _subject_column(UsageEntry, subject) == subject_id,
            UsageEntry.kind.in_(SPEND_KINDS),
            UsageEntry.created_at >= since,
        )
        return int(await self.session.scalar(stmt) or 0)


class PricingRepository(ScopedRepository[PricingPlan]):
    model = PricingPlan

    async def get(self, id_: str) -> PricingPlan | None:
        """The plan of the identity `id_`, if it has one."""
        stmt = self._select().where(PricingPlan.identity_id == id_)
        plan: PricingPlan | None = await self.session.scalar(stmt)
        return plan


def _lock_key(subject_id: str) -> int:
    digest = hashlib.blake2b(f"tidings.quota:{subject_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# Every send checks its quotas: built once (building it and its cache key cost more than
# running it).
def _of_subjects(scope: BoundScope) -> sa.Select[Quota]:
    return sa.select(Quota).where(
        *scope.where(Quota), Quota.subject_id.in_(sa.bindparam("subjects", expanding=True))
    )


_OF_SUBJECTS = ScopedQuery(_of_subjects)


class QuotaRepository(ScopedRepository[Quota]):
    model = Quota

    async def get(self, id_: str) -> Quota | None:
        stmt = self._select().where(Quota.subject_id == id_)
        quota: Quota | None = await self.session.scalar(stmt)
        return quota

    async def of_subjects(self, subject_ids: Sequence[str]) -> list[Quota]:
        """The quotas among these subjects, in the order given (one query for all)."""
        stmt, params = _OF_SUBJECTS.bind(self.scope, subjects=list(subject_ids))
        found = {quota.subject_id: quota for quota in await self.session.scalars(stmt, params)}
        return [found[subject_id] for subject_id in subject_ids if subject_id in found]

    async def lock(self, subject_id: str) -> None:
        """Serialise sends of one subject until this transaction ends, so that two of them
        cannot both see room for one more. SQLite writers are serial already."""
        if self.session.get_bind().dialect.name == "postgresql":
            key = _lock_key(subject_id)
            await self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


class QuotaRecipientRepository(ScopedRepository[QuotaRecipient]):
    """Who each identity (through each key) sent to per UTC day: counts distinct recipients."""

    model = QuotaRecipient

    async def known(
        self, subject: Subject, subject_id: str, day: str, recipients: Sequence[str]
    ) -> tuple[int, set[str]]:
        """How many distinct recipients the subject has today, and which of `recipients`."""
        where = [
            *self.scope.where(QuotaRecipient),
            _subject_column(QuotaRecipient, subject) == subject_id,
            QuotaRecipient.day == day,
        ]
        count = await self.session.scalar(
            sa.select(sa.func.count(sa.distinct(QuotaRecipient.recipient))).where(*where)
        )
        seen = await self.session.scalars(
            sa.select(QuotaRecipient.recipient)
            .where(*where, QuotaRecipient.recipient.in_(sorted(set(recipients))))
            .distinct()
        )
        return int(count or 0), set(seen)

    async def record(
        self, identity_id: str, api_key_id: str, day: str, recipients: Sequence[str]
    ) -> None:
        rows = [
            {
                "org_id": self.scope.org_id,
                "identity_id": identity_id,
                "api_key_id": api_key_id,
                "day": day,
                "recipient": recipient,
            }
            for recipient in sorted(set(recipients))
        ]
        if self.scope.identity_id not in (None, identity_id):
            raise PermissionError("row belongs to another identity")
        if rows:
            # Rows as parameters, not in `.values()`: a statement holding its values cannot
            # be cached, and compiling it anew was 1.5% of a send. On the table, not the
            # model: the ORM's bulk insert annotated the statement anew on every call.
            stmt = insert_or_ignore(self.session, QuotaRecipient.__table__)
            await self.session.execute(stmt, rows)

    @staticmethod
    async def forget_before(session: Any, day: str) -> None:
        """Installation-wide upkeep: days that no quota looks at any more."""
        await session.execute(sa.delete(QuotaRecipient).where(QuotaRecipient.day < day))


_EXPIRED = ClaimQuery(
    sa.select(MarketplaceRequest)
    .where(
        MarketplaceRequest.role == "buyer",
        MarketplaceRequest.status == "held",
        MarketplaceRequest.expires_at <= sa.bindparam("now"),
    )
    .order_by(MarketplaceRequest.expires_at)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


class MarketplaceRepository(ScopedRepository[MarketplaceRequest]):
    model = MarketplaceRequest

    async def find(
        self, identity_id: str, role: str, marketplace_request_id: str
    ) -> MarketplaceRequest | None:
        stmt = self._select().where(
            MarketplaceRequest.identity_id == identity_id,
            MarketplaceRequest.role == role,
            MarketplaceRequest.marketplace_request_id == marketplace_request_id,
        )
        found: MarketplaceRequest | None = await self.session.scalar(stmt)
        return found

    async def held_since(self, subject: Subject, subject_id: str, now: datetime) -> int:
        """Budget still held by the subject's open requests (a hold counts as spend)."""
        stmt = sa.select(sa.func.coalesce(sa.func.sum(MarketplaceRequest.budget), 0)).where(
            *self.scope.where(MarketplaceRequest),
            _subject_column(MarketplaceRequest, subject) == subject_id,
            MarketplaceRequest.role == "buyer",
            MarketplaceRequest.status == "held",
            MarketplaceRequest.expires_at > now,
        )
        return int(await self.session.scalar(stmt) or 0)

    @staticmethod
    async def expired(session: Any, now: datetime, *, limit: int) -> list[MarketplaceRequest]:
        """Installation-wide: buyers' holds past their expiry, locked for the sweeper."""
        return list(await session.scalars(_EXPIRED.stmt(session), {"now": now, "limit": limit}))
