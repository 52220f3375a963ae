"""Exact money and quantities: decimals with up to nine places, stored as integer nanos.

Both engines sum integers exactly, where SQLite has no decimal type and floats drift
(0.1 + 0.2). Prices, budgets and usage quantities arrive as decimals, are kept as nanos
(value times 10^9), and leave as decimal strings. A cost is rounded half-to-even to the nano
once, per ledger entry.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SCALE = 9
NANOS = 10**SCALE
# Largest amount or quantity a row may hold: well inside a signed 64-bit integer.
MAX_VALUE = Decimal(1_000_000_000)


def to_nanos(value: Decimal) -> int:
    """`value` (at most nine decimal places, checked by the caller) in nanos."""
    nanos = value.scaleb(SCALE)
    if nanos != nanos.to_integral_value():
        raise ValueError(f"{value} has more than {SCALE} decimal places")
    return int(nanos)


def format_nanos(nanos: int) -> str:
    """Nanos as a plain decimal string without trailing zeros: 300000000 -> "0.3"."""
    text = f"{Decimal(nanos).scaleb(-SCALE):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def parse_decimal(text: str) -> Decimal:
    """A non-negative decimal of at most nine places and below `MAX_VALUE`, or ValueError."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise ValueError(f"{text!r} is not a non-negative amount below {MAX_VALUE}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -SCALE:
        raise ValueError(f"{text!r} has more than {SCALE} decimal places")
    return value


def cost(quantity: int, unit_price: int, per: int = 1) -> int:
    """What `quantity` (nanos) costs at `unit_price` (nanos) for every `per` units, in nanos,
    rounded half to even. Integer arithmetic throughout, so nothing is lost on the way."""
    numerator = quantity * unit_price
    denominator = NANOS * per
    whole, rest = divmod(numerator, denominator)
    if rest * 2 > denominator or (rest * 2 == denominator and whole % 2 == 1):
        whole += 1
    return int(whole)
