"""Quotas: how many sends, distinct recipients and how much spend an identity or key may have.

Windows are fixed UTC minutes and days. A send is checked against the limits of its identity
and of its key inside the transaction that books it, under a per-subject lock, so concurrent
sends cannot overshoot a limit. The refusal names the limit, its window and when it resets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.errors import RateLimited, TidingsError
from tidings_server.store.models import Quota
from tidings_server.store.repositories.usage import (
    LedgerRepository,
    MarketplaceRepository,
    QuotaRecipientRepository,
    QuotaRepository,
    Subject,
)
from tidings_server.store.scope import Scope
from tidings_server.usage.amounts import format_nanos
from tidings_server.usage.pricing import EMAILS_SENT

LIMITS = ("sends_per_minute", "sends_per_day", "recipients_per_day", "spend_per_day")


@dataclass(frozen=True)
class Window:
    name: str  # minute | day
    start: datetime
    end: datetime

    @classmethod
    def of(cls, limit: str, now: datetime) -> Window:
        if limit.endswith("_minute"):
            start = now.replace(second=0, microsecond=0)
            return cls("minute", start, start + timedelta(minutes=1))
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls("day", start, start + timedelta(days=1))

    @property
    def day(self) -> str:
        return self.start.date().isoformat()


@dataclass(frozen=True)
class Standing:
    """How far one subject is into one of its limits."""

    name: str
    subject: Subject
    subject_id: str
    limit: int | None
    used: int
    window: Window

    def shown(self, value: int | None) -> int | str | None:
        if value is None:
            return None
        return format_nanos(value) if self.name == "spend_per_day" else value

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "name": self.name,
            "subject": self.subject,
            "subject_id": self.subject_id,
            "limit": self.shown(self.limit),
            "used": self.shown(self.used),
            "window": self.window.name,
            "window_seconds": int((self.window.end - self.window.start).total_seconds()),
            "resets_at": self.window.end.isoformat().replace("+00:00", "Z"),
            "retry_after_seconds": max(1, int((self.window.end - now).total_seconds() + 0.999)),
        }


class QuotaExceeded(RateLimited):
    code = "quota_exceeded"
    fix = "Wait until `limit.resets_at` (Retry-After seconds), or ask an admin to raise the limit."


class SpendLimitExceeded(TidingsError):
    status = 402
    code = "spend_limit_exceeded"
    fix = (
        "Wait until `limit.resets_at` for the daily spend to reset, report less usage or a "
        "smaller budget, or ask an admin to raise spend_per_day."
    )


def _refusal(standing: Standing, now: datetime) -> TidingsError:
    detail = standing.to_json(now)
    what = f"the {standing.subject.replace('_', ' ')} {standing.subject_id}"
    message = (
        f"This send would exceed {standing.name} ({detail['limit']}) of {what}: "
        f"{detail['used']} used this {standing.window.name}, resets at {detail['resets_at']}."
    )
    if standing.name == "spend_per_day":
        return SpendLimitExceeded(message, param="usage", extra={"limit": detail})
    return QuotaExceeded(
        message,
        extra={"limit": detail},
        headers={"Retry-After": str(detail["retry_after_seconds"])},
    )


class Quotas:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.quotas = QuotaRepository(session, scope)
        self.ledger = LedgerRepository(session, scope)
        self.recipients = QuotaRecipientRepository(session, scope)
        self.holds = MarketplaceRepository(session, scope)

    async def standings(
        self, quota: Quota, now: datetime, recipients: Sequence[str] = (), spend: int = 0
    ) -> list[tuple[Standing, int]]:
        """Each limit of `quota` with its use so far, and what a send of `recipients`
        costing `spend` would add to it."""
        subject: Subject = "identity" if quota.subject_kind == "identity" else "api_key"
        found = []
        for name in LIMITS:
            window = Window.of(name, now)
            added = 1
            if name.startswith("sends_"):
                used = await self.ledger.count_since(
                    subject, quota.subject_id, EMAILS_SENT, window.start
                )
            elif name == "recipients_per_day":
                used, seen = await self.recipients.known(
                    subject, quota.subject_id, window.day, recipients
                )
                added = len(set(recipients) - seen)
            else:
                used = await self.ledger.spend_since(subject, quota.subject_id, window.start)
                used += await self.holds.held_since(subject, quota.subject_id, now)
                added = spend
            limit: int | None = getattr(quota, name)
            found.append((Standing(name, subject, quota.subject_id, limit, used, window), added))
        return found

    async def admit(
        self,
        *,
        identity_id: str,
        api_key_id: str,
        recipients: Sequence[str],
        spend: int,
        now: datetime,
    ) -> None:
        """Refuse the send if it would take the identity or the key over one of its limits."""
        # Locks are taken in one order (identity, then key), so two sends cannot deadlock.
        for quota in await self.quotas.of_subjects([identity_id, api_key_id]):
            await self.quotas.lock(quota.subject_id)
            for standing, added in await self.standings(quota, now, recipients, spend):
                if standing.limit is not None and added and standing.used + added > standing.limit:
                    raise _refusal(standing, now)

    async def remember_recipients(
        self, identity_id: str, api_key_id: str, recipients: Sequence[str], now: datetime
    ) -> None:
        day = Window.of("day", now).day
        await self.recipients.record(identity_id, api_key_id, day, recipients)
