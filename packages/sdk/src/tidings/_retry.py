"""When and how long to wait before retrying a request: one policy for both clients."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["RetryOptions"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# A server asking for a longer wait than this gets it from the caller, not from a blocked call.
MAX_HINTED_WAIT = 60.0


@dataclass(frozen=True)
class RetryOptions:
    """Retry policy: `attempts` in all (1 means no retry), exponential backoff with jitter.

    `sleep` is what waits between attempts; tests pass a fake one.
    """

    attempts: int = 3
    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    sleep: Callable[[float], object] = field(default=time.sleep, compare=False)


def may_retry(method: str, headers: Mapping[str, str]) -> bool:
    """Only requests that are safe to repeat: safe methods, and POSTs with an Idempotency-Key."""
    return method.upper() in SAFE_METHODS or "idempotency-key" in {k.lower() for k in headers}


def should_retry_status(status: int, code: str | None, retryable: bool | None) -> bool:
    if status == 409:
        return code == "idempotency_conflict" and bool(retryable)  # still in flight
    return status in RETRY_STATUSES


def delay_for(
    options: RetryOptions, attempt: int, headers: Mapping[str, str], now: float | None = None
) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, honouring Retry-After and
    X-RateLimit-Reset exactly; None when the server asks for more than a minute."""
    lowered = {k.lower(): v for k, v in headers.items()}
    hinted = _hint(lowered, time.time() if now is None else now)
    if hinted is not None:
        return max(hinted, 0.0) if hinted <= MAX_HINTED_WAIT else None
    base = options.initial_delay * options.multiplier ** (attempt - 1)
    return min(base, options.max_delay) * random.uniform(0.75, 1.0)


def _hint(headers: Mapping[str, str], now: float) -> float | None:
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return float(retry_after)
        except ValueError:
            pass
    if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
        try:
            return float(headers["x-ratelimit-reset"]) - now
        except ValueError:
            pass
    return None
