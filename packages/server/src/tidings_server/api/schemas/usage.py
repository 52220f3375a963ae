"""Usage as the API shows it: reported usage, prices, quotas, the ledger and marketplace requests.

Money and custom quantities are exact decimals: accepted as strings (recommended) or JSON
numbers with at most nine decimal places, and always answered as strings ("0.0015").
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from tidings_server.api.schemas.common import RequestModel
from tidings_server.store.models import MarketplaceRequest, PricingPlan, UsageEntry
from tidings_server.usage.amounts import format_nanos, parse_decimal, to_nanos
from tidings_server.usage.headers import REQUEST_ID_PATTERN
from tidings_server.usage.pricing import Prices, UsageReport

MAX_COUNT = 1_000_000_000


def _exact(value: object) -> Decimal:
    # JSON numbers arrive as floats; their shortest repr is the number the caller wrote.
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError('must be a decimal number (a string such as "0.25", or a number)')
    return parse_decimal(repr(value) if isinstance(value, float) else str(value))


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
UnitName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,39}$")]
RequestId = Annotated[str, StringConstraints(pattern=REQUEST_ID_PATTERN)]


class UsageIn(RequestModel):
    """The work behind a send. Every field is optional; unknown fields are refused."""

    tokens_input: Count = 0
    tokens_output: Count = 0
    outcomes_returned: Count = 0
    compute_ms: Count = 0
    custom_units: dict[UnitName, ExactDecimal] = Field(
        default_factory=dict,
        max_length=20,
        description='Your own units, e.g. {"pages": "3"}: name to non-negative number.',
    )

    def report(self) -> UsageReport:
        return UsageReport(
            tokens_input=self.tokens_input,
            tokens_output=self.tokens_output,
            outcomes_returned=self.outcomes_returned,
            compute_ms=self.compute_ms,
            custom_units={name: to_nanos(q) for name, q in self.custom_units.items()},
        )


class UsageView(BaseModel):
    """Usage a message reported (outbound) or carried (inbound, from another agent)."""

    tokens_input: int = 0
    tokens_output: int = 0
    outcomes_returned: int = 0
    compute_ms: int = 0
    custom_units: dict[str, str] = {}


class PricingIn(RequestModel):
    """A plan replaces the one before; a price left out (or null) is not charged for."""

    tokens_input_per_1k: ExactDecimal | None = None
    tokens_output_per_1k: ExactDecimal | None = None
    per_outcome: ExactDecimal | None = None
    compute_per_second: ExactDecimal | None = None
    custom_units: dict[UnitName, ExactDecimal] = Field(default_factory=dict, max_length=50)

    def nanos(self) -> dict[str, Any]:
        prices: dict[str, Any] = {
            name: None if getattr(self, name) is None else to_nanos(getattr(self, name))
            for name in ("tokens_input_per_1k", "tokens_output_per_1k", "per_outcome",
                         "compute_per_second")
        }  # fmt: skip
        prices["custom_units"] = {k: to_nanos(v) for k, v in self.custom_units.items()}
        return prices


def _price(nanos: int | None) -> str | None:
    return None if nanos is None else format_nanos(nanos)


class PricingView(BaseModel):
    identity_id: str
    currency: str
    kinds: list[Literal["token_based", "per_outcome", "compute", "custom"]]
    tokens_input_per_1k: str | None
    tokens_output_per_1k: str | None
    per_outcome: str | None
    compute_per_second: str | None
    custom_units: dict[str, str]
    updated_at: datetime | None

    @classmethod
    def of(cls, identity_id: str, plan: PricingPlan | None, currency: str) -> PricingView:
        prices = Prices.of(plan)
        return cls(
            identity_id=identity_id,
            currency=plan.currency if plan else currency,
            kinds=prices.kinds(),
            tokens_input_per_1k=_price(prices.tokens_input_per_1k),
            tokens_output_per_1k=_price(prices.tokens_output_per_1k),
            per_outcome=_price(prices.per_outcome),
            compute_per_second=_price(prices.compute_per_second),
            custom_units={k: format_nanos(v) for k, v in sorted(prices.custom_units.items())},
            updated_at=plan.updated_at if plan else None,
        )


class QuotaIn(RequestModel):
    """Limits replace the ones before; a limit left out (or null) is no limit."""

    sends_per_minute: Count | None = None
    sends_per_day: Count | None = None
    recipients_per_day: Count | None = None
    spend_per_day: ExactDecimal | None = Field(
        default=None, description="In the server's currency; holds of open requests count."
    )

    def limits(self) -> dict[str, int | None]:
        spend = None if self.spend_per_day is None else to_nanos(self.spend_per_day)
        return {
            "sends_per_minute": self.sends_per_minute,
            "sends_per_day": self.sends_per_day,
            "recipients_per_day": self.recipients_per_day,
            "spend_per_day": spend,
        }


class LimitView(BaseModel):
    name: str
    subject: Literal["identity", "api_key"]
    subject_id: str
    limit: int | str | None
    used: int | str
    window: Literal["minute", "day"]
    window_seconds: int
    resets_at: datetime
    retry_after_seconds: int


class QuotaView(BaseModel):
    subject: Literal["identity", "api_key"]
    subject_id: str
    currency: str
    limits: list[LimitView]


class LedgerEntryView(BaseModel):
    id: str
    kind: Literal["send", "receipt", "usage", "marketplace_charge", "marketplace_earning"]
    unit: str
    quantity: str
    amount: str
    currency: str
    identity_id: str | None
    api_key_id: str | None
    message_id: str | None
    correlation_id: str | None
    idempotency_key: str | None
    reservation_key: str | None
    marketplace_request_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: UsageEntry) -> LedgerEntryView:
        return cls(
            id=entry.id,
            kind=entry.kind,
            unit=entry.unit,
            quantity=format_nanos(entry.quantity),
            amount=format_nanos(entry.amount),
            currency=entry.currency,
            identity_id=entry.identity_id,
            api_key_id=entry.api_key_id,
            message_id=entry.message_id,
            correlation_id=entry.correlation_id,
            idempotency_key=entry.idempotency_key,
            reservation_key=entry.reservation_key,
            marketplace_request_id=entry.marketplace_request_id,
            created_at=entry.created_at,
        )


class UsageGroupView(BaseModel):
    period_start: datetime | None
    identity_id: str | None = None
    api_key_id: str | None = None
    unit: str | None = None
    kind: str | None = None
    quantity: str
    amount: str
    entries: int


class UsageTotals(BaseModel):
    spend: str = Field(description="Own usage and marketplace charges.")
    earnings: str = Field(description="What buyers were charged for this work.")
    entries: int


class UsageSummary(BaseModel):
    currency: str
    period: Literal["hour", "day", "month", "total"]
    group_by: list[Literal["identity", "key", "unit", "kind"]]
    since: datetime | None
    until: datetime | None
    data: list[UsageGroupView]
    totals: UsageTotals


class MarketplaceRequestView(BaseModel):
    """One side of a marketplace request, as its owner sees it."""

    id: str
    marketplace_request_id: str
    role: Literal["buyer", "seller"]
    status: Literal["held", "open", "settled", "expired"]
    identity_id: str
    counterparty: str
    currency: str
    budget: str | None
    charged: str | None
    released: str | None = Field(description="The buyer's budget not charged, once settled.")
    reservation_key: str | None
    correlation_id: str | None
    request_message_id: str
    response_message_id: str | None
    expires_at: datetime | None
    settled_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: MarketplaceRequest) -> MarketplaceRequestView:
        released = None
        if row.role == "buyer" and row.status in ("settled", "expired") and row.budget is not None:
            released = format_nanos(row.budget - (row.charged or 0))
        return cls(
            id=row.id,
            marketplace_request_id=row.marketplace_request_id,
            role=row.role,
            status=row.status,
            identity_id=row.identity_id,
            counterparty=row.counterparty,
            currency=row.currency,
            budget=_price(row.budget),
            charged=_price(row.charged),
            released=released,
            reservation_key=row.reservation_key,
            correlation_id=row.correlation_id,
            request_message_id=row.message_id,
            response_message_id=row.response_message_id,
            expires_at=row.expires_at,
            settled_at=row.settled_at,
            created_at=row.created_at,
        )
