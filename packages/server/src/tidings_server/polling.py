"""The loops background workers run: passes with a pause when idle, or slots kept full."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

# A unit of claimed work: how many slots it takes, and the coroutine that does it.
SlotWork = tuple[int, Coroutine[Any, Any, None]]


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


async def fill_slots(
    stop: asyncio.Event,
    claim: Callable[[int], Awaitable[list[SlotWork]]],
    *,
    slots: int,
    poll_seconds: float,
    log: logging.Logger,
    what: str,
) -> None:
    """Keep up to `slots` slots of work in flight until `stop` is set; then finish them.

    `claim(free)` takes at most `free` slots' worth of work. Each unit runs in a task of its
    own and its slots are refilled as soon as it ends, so a slow peer holds up only its own
    work, not a whole batch. With nothing to claim the loop waits `poll_seconds`; with no
    slot free, until one frees up. A unit that fails is logged (its lease brings it back).
    """
    in_flight: dict[asyncio.Task[None], int] = {}
    finished = asyncio.Event()

    def done(task: asyncio.Task[None]) -> None:
        in_flight.pop(task, None)
        finished.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed; it is retried when its lease ends", what,
                      exc_info=task.exception())  # fmt: skip

    while not stop.is_set():
        free = slots - sum(in_flight.values())
        claimed: list[SlotWork] = []
        if free > 0:
            try:
                claimed = await claim(free)
            except Exception:
                log.exception("claiming %s failed; retrying shortly", what)
        for size, work in claimed:
            task = asyncio.create_task(work)
            in_flight[task] = size
            task.add_done_callback(done)
        if claimed:
            continue
        finished.clear()
        waits = [asyncio.ensure_future(stop.wait())]
        if free <= 0:
            waits.append(asyncio.ensure_future(finished.wait()))
        _, pending = await asyncio.wait(
            waits, timeout=None if free <= 0 else poll_seconds,
            return_when=asyncio.FIRST_COMPLETED,
        )  # fmt: skip
        for waiting in pending:
            waiting.cancel()
    await asyncio.gather(*in_flight, return_exceptions=True)
