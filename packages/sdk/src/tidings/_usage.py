"""Typed shapes of metering: pricing plans, quotas, the usage ledger and its totals, and
marketplace requests. Every amount and custom quantity is an exact `Decimal`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tidings._amounts import Amount, CountOrAmount
from tidings._models import Message, Model

__all__ = [
    "LedgerEntry",
    "MarketplaceMessage",
    "MarketplaceRequest",
    "PricingPlan",
    "QuotaLimit",
    "Quotas",
    "UsageGroup",
    "UsageLine",
    "UsageSummary",
    "UsageTotals",
]

EntryKind = Literal["send", "receipt", "usage", "marketplace_charge", "marketplace_earning"]


class PricingPlan(Model):
    """What an identity's work costs. A price that is None is not charged for; `kinds`
    names the kinds of price the plan has (empty: no plan)."""

    identity_id: str
    currency: str
    kinds: list[Literal["token_based", "per_outcome", "compute", "custom"] | str] = []
    tokens_input_per_1k: Amount | None = None
    tokens_output_per_1k: Amount | None = None
    per_outcome: Amount | None = None
    compute_per_second: Amount | None = None
    custom_units: dict[str, Amount] = {}
    updated_at: datetime | None = None


class QuotaLimit(Model):
    """One limit, with what is used of it in its current window and when that resets.

    Counts (`sends_per_minute`, `sends_per_day`, `recipients_per_day`) are ints; spend
    (`spend_per_day`) is a Decimal in the server's currency. `limit` None: no limit set.
    """

    name: str
    subject: Literal["identity", "api_key"] | str
    subject_id: str
    limit: CountOrAmount | None = None
    used: CountOrAmount
    window: Literal["minute", "day"] | str
    window_seconds: int
    resets_at: datetime
    retry_after_seconds: int


class Quotas(Model):
    """The limits of one identity or API key."""

    subject: Literal["identity", "api_key"] | str
    subject_id: str
    currency: str
    limits: list[QuotaLimit] = []

    def limit(self, name: str) -> QuotaLimit:
        """The limit called `name` (`"sends_per_day"`, ...); KeyError if there is none."""
        for limit in self.limits:
            if limit.name == name:
                return limit
        raise KeyError(name)


class LedgerEntry(Model):
    """One unit of one send, receipt or settlement. Entries are never changed or deleted."""

    id: str
    kind: EntryKind | str
    unit: str
    quantity: Amount
    amount: Amount
    currency: str
    identity_id: str | None = None
    api_key_id: str | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    idempotency_key: str | None = None
    reservation_key: str | None = None
    marketplace_request_id: str | None = None
    created_at: datetime


class UsageGroup(Model):
    """Totals of one group in one period; the keys not grouped by are None."""

    period_start: datetime | None = None
    identity_id: str | None = None
    api_key_id: str | None = None
    unit: str | None = None
    kind: str | None = None
    quantity: Amount
    amount: Amount
    entries: int


class UsageTotals(Model):
    spend: Amount = Field(description="Own usage and marketplace charges.")
    earnings: Amount = Field(description="What buyers were charged for this work.")
    entries: int


class UsageSummary(Model):
    """`td.usage.summary()`: totals per group and UTC period, and spend and earnings overall."""

    currency: str
    period: Literal["hour", "day", "month", "total"] | str
    group_by: list[str]
    since: datetime | None = None
    until: datetime | None = None
    data: list[UsageGroup] = []
    totals: UsageTotals


class MarketplaceRequest(Model):
    """One side of a marketplace request, as its owner sees it.

    The buyer's side is `held` until the answer settles it (or it expires); the seller's is
    `open` until the seller answers. `released` is the budget the buyer was not charged.
    """

    id: str
    marketplace_request_id: str
    role: Literal["buyer", "seller"] | str
    status: Literal["held", "open", "settled", "expired"] | str
    identity_id: str
    counterparty: str
    currency: str
    budget: Amount | None = None
    charged: Amount | None = None
    released: Amount | None = None
    reservation_key: str | None = None
    correlation_id: str | None = None
    request_message_id: str
    response_message_id: str | None = None
    expires_at: datetime | None = None
    settled_at: datetime | None = None
    created_at: datetime


class MarketplaceMessage(Message):
    """The message a marketplace request or answer sent, with the request it made or settled."""

    marketplace_request_id: str  # always set on these, so typed without None
    marketplace_request: MarketplaceRequest


class UsageLine(Model):
    """One unit of a settlement and what it cost."""

    unit: str
    quantity: Amount
    amount: Amount
