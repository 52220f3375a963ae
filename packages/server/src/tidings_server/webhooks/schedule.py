"""When a failed webhook delivery is tried again, and when it is given up.

Attempts go out immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h
after the previous failure: about three days in all, long enough to ride out a weekend
outage. Each wait is jittered so a recovering receiver is not hit by every sender at once.
"""

from __future__ import annotations

import random
from datetime import timedelta

SCHEDULE = tuple(
    timedelta(seconds=s) for s in (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
)
ATTEMPTS = len(SCHEDULE)
# How long a subscription may fail without one success before it is disabled.
FAILURE_WINDOW = sum(SCHEDULE, timedelta())
JITTER = 0.1
MAX_RETRY_AFTER = timedelta(hours=24)


def next_delay(
    attempts: int, *, retry_after: timedelta | None = None, rng: random.Random | None = None
) -> timedelta | None:
    """The wait before the next try after `attempts` failed ones, or None to give up.

    A receiver's Retry-After is honoured when it asks for longer than the schedule would
    wait (up to a day); the schedule still decides how many attempts there are.
    """
    if attempts >= ATTEMPTS:
        return None
    delay = SCHEDULE[attempts]
    spread = delay.total_seconds() * JITTER
    delay += timedelta(seconds=(rng or random).uniform(-spread, spread))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def is_retryable(status: int | None) -> bool:
    """Network errors, timeouts (no status, 408), 429 and 5xx are tried again; others are final."""
    return status is None or status in (408, 429) or status >= 500
