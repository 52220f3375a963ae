"""The loop a background worker runs: a pass, a pause when there was nothing to do, until stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


async def poll_until(
    stop: asyncio.Event,
    run_once: Callable[[], Awaitable[int]],
    *,
    poll_seconds: float,
    log: logging.Logger,
) -> None:
    """Call `run_once` (which returns how much it did) until `stop` is set.

    A busy worker goes straight on; an idle one waits `poll_seconds` or until stopped. A
    failing pass is logged and tried again, so one bad row cannot end the worker. The pass
    in hand always finishes: `stop` is only looked at between passes.
    """
    while not stop.is_set():
        try:
            done = await run_once()
        except Exception:
            log.exception("worker pass failed; retrying shortly")
            done = 0
        if done == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_seconds)
