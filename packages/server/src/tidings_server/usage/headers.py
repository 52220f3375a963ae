"""Usage and marketplace terms as they travel in a message's own MIME headers.

Mail is the only link between a buyer's server and a seller's, so the terms ride in the
message: the request carries its id, budget and expiry; the answer carries the id, the
usage line by line and the charge. Tidings sets these headers itself; callers may not.

    X-Tidings-Marketplace-Request-Id: mkt_01...
    X-Tidings-Marketplace-Budget: 2.5 USD
    X-Tidings-Marketplace-Expires: 2026-12-02T10:00:00+00:00
    X-Tidings-Marketplace-Charge: 0.0042 USD
    X-Tidings-Usage: tokens_input=1200; amount=0.0012   (one header per unit)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tidings_server.errors import ValidationFailed
from tidings_server.usage.amounts import NANOS, format_nanos, parse_decimal, to_nanos
from tidings_server.usage.pricing import CUSTOM_PREFIX, STANDARD_UNITS, UsageLine, UsageReport

USAGE = "X-Tidings-Usage"
REQUEST_ID = "X-Tidings-Marketplace-Request-Id"
BUDGET = "X-Tidings-Marketplace-Budget"
EXPIRES = "X-Tidings-Marketplace-Expires"
CHARGE = "X-Tidings-Marketplace-Charge"
_MARKETPLACE_PREFIX = "x-tidings-marketplace-"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$"
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
_UNIT = re.compile(r"^[a-z0-9_.-]{1,80}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def refuse_reserved(headers: Mapping[str, str]) -> None:
    """Callers cannot forge usage or marketplace terms through custom headers."""
    for name in headers:
        lowered = name.lower()
        if lowered == USAGE.lower() or lowered.startswith(_MARKETPLACE_PREFIX):
            raise ValidationFailed(
                f"`{name}` is set by Tidings from the send's fields.",
                code="reserved_header",
                param=f"headers.{name}",
                fix="Remove the header; report usage in `usage` and use the marketplace "
                "endpoints for requests and answers.",
            )


def money(nanos: int, currency: str) -> str:
    return f"{format_nanos(nanos)} {currency}"


def usage_headers(lines: Sequence[UsageLine], *, with_amounts: bool) -> list[tuple[str, str]]:
    headers = []
    for line in lines:
        value = f"{line.unit}={format_nanos(line.quantity)}"
        if with_amounts:
            value += f"; amount={format_nanos(line.amount)}"
        headers.append((USAGE, value))
    return headers


def _values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    return [value.strip() for key, value in headers if key.lower() == name.lower()]


def _first(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    found = _values(headers, name)
    return found[0] if found else None


def _money(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    amount, _, currency = text.partition(" ")
    if not _CURRENCY.match(currency.strip()):
        return None
    try:
        return to_nanos(parse_decimal(amount)), currency.strip()
    except ValueError:
        return None


def _line(value: str) -> UsageLine | None:
    first, _, rest = value.partition(";")
    unit, _, quantity = first.partition("=")
    unit = unit.strip()
    if not _UNIT.match(unit) or not (unit in STANDARD_UNITS or unit.startswith(CUSTOM_PREFIX)):
        return None
    amount = "0"
    key, _, text = rest.partition("=")
    if key.strip() == "amount":
        amount = text
    try:
        return UsageLine(unit, to_nanos(parse_decimal(quantity)), to_nanos(parse_decimal(amount)))
    except ValueError:
        return None


def parse_usage(headers: Iterable[tuple[str, str]]) -> list[UsageLine]:
    """The usage lines a received message carries; malformed lines are left out."""
    lines = [_line(value) for value in _values(headers, USAGE)]
    return [line for line in lines if line is not None]


def report_of(lines: Sequence[UsageLine]) -> UsageReport | None:
    """The usage report the lines describe (None if there are none)."""
    if not lines:
        return None
    counts = {unit: 0 for unit in STANDARD_UNITS}
    custom: dict[str, int] = {}
    for line in lines:
        if line.unit in counts:
            counts[line.unit] = line.quantity // NANOS
        else:
            custom[line.unit.removeprefix(CUSTOM_PREFIX)] = line.quantity
    return UsageReport(**counts, custom_units=custom)


@dataclass(frozen=True)
class MarketplaceTerms:
    """What a received message says about a marketplace request it belongs to."""

    request_id: str
    budget: tuple[int, str] | None  # set on a request
    expires_at: datetime | None
    charge: tuple[int, str] | None  # set on an answer
    lines: list[UsageLine]

    @property
    def is_answer(self) -> bool:
        return self.charge is not None

    @classmethod
    def read(cls, headers: Sequence[tuple[str, str]]) -> MarketplaceTerms | None:
        request_id = _first(headers, REQUEST_ID)
        if request_id is None or not _REQUEST_ID.match(request_id):
            return None
        expires: datetime | None = None
        if (text := _first(headers, EXPIRES)) is not None:
            try:
                expires = datetime.fromisoformat(text)
            except ValueError:
                expires = None
            if expires is not None and expires.tzinfo is None:
                expires = None
        return cls(
            request_id=request_id,
            budget=_money(_first(headers, BUDGET)),
            expires_at=expires,
            charge=_money(_first(headers, CHARGE)),
            lines=parse_usage(headers),
        )
