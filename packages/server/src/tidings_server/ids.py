"""Opaque, prefixed, time-sortable identifiers (`idn_...`, `mbx_...`).

A millisecond timestamp followed by 80 random bits, in lowercase Crockford base32, so ids
sort by creation time as strings and keyset pagination can order by id alone.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

PREFIXES = frozenset(
    {
        "org",
        "idn",
        "mbx",
        "msg",
        "thr",
        "att",
        "evt",
        "whk",
        "whd",
        "key",
        "req",
        "cor",
        "led",
        "rsv",
        "mkt",
        "mkr",
    }
)


def _base32(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    """A new id such as `idn_01jd5x...`: 10 chars of time, 16 of randomness."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return f"{prefix}_{_base32(ms, 10)}{_base32(secrets.randbits(80), 16)}"
