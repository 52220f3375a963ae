"""Usage reports and prices: what a send says it used, and what that costs on a plan.

Units are named as the API names them: `tokens_input`, `tokens_output`,
`outcomes_returned`, `compute_ms` and `custom.<name>`; counted units of the ledger itself
are `emails_sent` and `emails_received`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tidings_server.store.models import PricingPlan
from tidings_server.usage.amounts import NANOS, cost, format_nanos

CUSTOM_PREFIX = "custom."
EMAILS_SENT = "emails_sent"
EMAILS_RECEIVED = "emails_received"
# A negative line that brings a total down to the budget it may not exceed.
BUDGET_CAP = "budget_cap"
STANDARD_UNITS = ("tokens_input", "tokens_output", "outcomes_returned", "compute_ms")


@dataclass(frozen=True)
class UsageReport:
    """What a send reports it used. Counts are whole; custom units are nanos."""

    tokens_input: int = 0
    tokens_output: int = 0
    outcomes_returned: int = 0
    compute_ms: int = 0
    custom_units: Mapping[str, int] = field(default_factory=dict)

    def quantities(self) -> list[tuple[str, int]]:
        """(unit, quantity in nanos) for every unit used, in a stable order."""
        counted = [(unit, getattr(self, unit) * NANOS) for unit in STANDARD_UNITS]
        custom = [(CUSTOM_PREFIX + name, q) for name, q in sorted(self.custom_units.items())]
        return [(unit, quantity) for unit, quantity in [*counted, *custom] if quantity > 0]

    def to_json(self) -> dict[str, Any]:
        """As messages show it: counts as numbers, custom quantities as exact strings."""
        shown: dict[str, Any] = {unit: getattr(self, unit) for unit in STANDARD_UNITS}
        shown["custom_units"] = {k: format_nanos(v) for k, v in sorted(self.custom_units.items())}
        return shown


@dataclass(frozen=True)
class UsageLine:
    """One unit of usage and what it costs (nanos both)."""

    unit: str
    quantity: int
    amount: int

    def to_json(self) -> dict[str, str]:
        return {
            "unit": self.unit,
            "quantity": format_nanos(self.quantity),
            "amount": format_nanos(self.amount),
        }


@dataclass(frozen=True)
class Prices:
    """An identity's plan: a price per 1k tokens, per outcome, per compute second, per unit."""

    tokens_input_per_1k: int | None = None
    tokens_output_per_1k: int | None = None
    per_outcome: int | None = None
    compute_per_second: int | None = None
    custom_units: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: PricingPlan | None) -> Prices:
        if plan is None:
            return cls()
        return cls(
            tokens_input_per_1k=plan.tokens_input_per_1k,
            tokens_output_per_1k=plan.tokens_output_per_1k,
            per_outcome=plan.per_outcome,
            compute_per_second=plan.compute_per_second,
            custom_units=dict(plan.custom_units),
        )

    def kinds(self) -> list[str]:
        """Which kinds of pricing the plan mixes: token_based, per_outcome, compute, custom."""
        present = {
            "token_based": self.tokens_input_per_1k is not None
            or self.tokens_output_per_1k is not None,
            "per_outcome": self.per_outcome is not None,
            "compute": self.compute_per_second is not None,
            "custom": bool(self.custom_units),
        }
        return [kind for kind, used in present.items() if used]

    def _rate(self, unit: str) -> tuple[int, int] | None:
        """(price in nanos, per how many units) for `unit`, or None if it is not priced."""
        rates = {
            "tokens_input": (self.tokens_input_per_1k, 1000),
            "tokens_output": (self.tokens_output_per_1k, 1000),
            "outcomes_returned": (self.per_outcome, 1),
            "compute_ms": (self.compute_per_second, 1000),
        }
        if unit in rates:
            price, per = rates[unit]
            return None if price is None else (price, per)
        custom = self.custom_units.get(unit.removeprefix(CUSTOM_PREFIX))
        return None if custom is None else (custom, 1)

    def price(self, usage: UsageReport | None) -> list[UsageLine]:
        """Each unit `usage` used, priced on this plan (zero where the plan sets no price)."""
        if usage is None:
            return []
        lines = []
        for unit, quantity in usage.quantities():
            rate = self._rate(unit)
            amount = 0 if rate is None else cost(quantity, rate[0], rate[1])
            lines.append(UsageLine(unit, quantity, amount))
        return lines


def total(lines: list[UsageLine]) -> int:
    return sum(line.amount for line in lines)


def capped(lines: list[UsageLine], budget: int | None) -> list[UsageLine]:
    """`lines`, plus a negative `budget_cap` line when their total is over `budget`."""
    over = total(lines) - budget if budget is not None else 0
    return [*lines, UsageLine(BUDGET_CAP, 0, -over)] if over > 0 else lines
