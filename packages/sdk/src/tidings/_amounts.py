"""Exact amounts: money and custom quantities travel as decimal strings, never as floats.

The server keeps nine exact decimal places and answers amounts as strings ("0.0015"). The
SDK takes a `Decimal`, a `str` or an `int` from callers, holds `Decimal` in its models and
sends plain fixed-point strings. A float is refused: 0.1 has no exact binary form, so an
amount that went through one may not be the amount you meant.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["Amount", "AmountInput", "CountOrAmount"]

AmountInput = Decimal | str | int
"""What callers may give for an amount or a custom quantity."""


def _exact(value: object) -> Decimal:
    """`value` as a Decimal; TypeError for floats (and bools), ValueError for bad text."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(
            f"an amount is a Decimal, str or int, not {type(value).__name__} "
            '(floats are inexact: write "0.1" or Decimal("0.1"))'
        )
    try:
        return Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None


def _fixed_point(value: Decimal) -> str:
    return f"{value:f}"  # "0.000000001", never "1E-9"


Amount = Annotated[
    Decimal,
    BeforeValidator(_exact),
    PlainSerializer(_fixed_point, return_type=str, when_used="json"),
]
"""An exact decimal: given as Decimal, str or int, held as Decimal, sent as a string."""


def _counted(value: object) -> object:
    # The server answers counts as JSON integers and money as strings; keep them apart.
    return _exact(value) if isinstance(value, str) else value


CountOrAmount = Annotated[int | Amount, BeforeValidator(_counted)]
"""A quota's figure: a count (sends, recipients) as int, or spend as an exact Decimal."""
