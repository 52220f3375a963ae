"""The webhook delivery worker: claims due deliveries under a lease, POSTs them signed, and
records every attempt; failures are retried on the schedule in `webhooks.schedule`.

A worker that dies mid-delivery leaves its lease to run out and another worker (or the
restarted process) sends again with the same `webhook-id`, so receivers can de-duplicate.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings.webhooks import sign_headers
from tidings_server import __version__
from tidings_server.clock import Clock
from tidings_server.events.log import append_event
from tidings_server.events.wire import event_json
from tidings_server.polling import SlotWork, fill_slots
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import Webhook, WebhookAttempt, WebhookDelivery
from tidings_server.store.repositories.webhooks import WebhookDeliveryRepository, WebhookJobs
from tidings_server.store.scope import Scope
from tidings_server.webhooks.egress import EgressResult
from tidings_server.webhooks.schedule import FAILURE_WINDOW, is_retryable, next_delay

log = logging.getLogger("tidings.webhooks")
USER_AGENT = f"Tidings-Webhooks/{__version__}"
# A run: deliveries of one order sent one after another and recorded in one transaction.
# Its events are held in memory meanwhile, so a run is also bounded by their size: with every
# slot (`webhook_batch`) running one, at most that many times this much.
RUN_LENGTH = 50
RUN_BYTES = 512 * 1024
# No POST of a run starts later than this after its first: its attempts are on record soon,
# and with the default lease (60 s) and timeout (10 s) its last exchange ends well in time.
RUN_SECONDS = 1.0


class Poster(Protocol):
    """The seam to the network: POST a body, never raise for network trouble."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> EgressResult: ...


@dataclass(frozen=True)
class Job:
    """A claimed delivery with everything needed to send it, detached from any session."""

    delivery_id: str
    org_id: str
    order_key: str
    lease_until: datetime
    attempts: int
    webhook_id: str
    url: str
    headers: dict[str, str]
    secrets: tuple[str, ...]
    event_id: str
    body: bytes


def _signing_secrets(webhook: Webhook, now: datetime) -> tuple[str, ...]:
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret and expires is not None and now < expires:
        return (webhook.secret, webhook.previous_secret)
    return (webhook.secret,)


class WebhookWorker:
    def __init__(
        self,
        *,
        writes: async_sessionmaker[AsyncSession],
        clock: Clock,
        poster: Poster,
        batch: int = 50,
        lease: timedelta = timedelta(seconds=60),
        poll_seconds: float = 0.2,
        rng: random.Random | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.writes = writes
        self.clock = clock
        self.poster = poster
        self.batch = batch
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.rng = rng or random.Random()
        # The signature's timestamp is real time even when a fake clock schedules the work:
        # receivers check it against their own clock to refuse replayed requests.
        self.wall_clock = wall_clock

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; requests in flight are finished first.

        Each claimed delivery goes out in a task of its own (`fill_slots`), so a slow endpoint
        holds up only its own subscription. One that succeeds takes the next run of its order
        (`RUN_LENGTH` deliveries) in the transaction that records it: a busy mailbox's events
        follow each other without waiting for a claim pass, and a run's attempts share one
        transaction, which on SQLite otherwise waits its turn for the write connection.
        """

        async def claim(free: int) -> list[SlotWork]:
            return [(1, self._deliver_in_order(job, stop)) for job in await self.claim(free)]

        await fill_slots(stop, claim, slots=self.batch, poll_seconds=self.poll_seconds, log=log,
                         what="a webhook delivery")  # fmt: skip

    async def claim(self, limit: int | None = None) -> list[Job]:
        """Take due deliveries under a lease (public so tests can play a worker that dies)."""
        now = self.clock.now()
        async with self.writes.begin() as session:
            queue = WebhookJobs(session)
            due = await queue.due(now, limit or self.batch)
            return await self._lease(queue, due, now)

    async def _lease(self, queue: WebhookJobs, due: list[str], now: datetime) -> list[Job]:
        if not due:
            return []
        lease_until = now + self.lease
        await queue.lease(due, lease_until)
        return [
            Job(
                delivery_id=delivery.id,
                org_id=delivery.org_id,
                order_key=delivery.order_key,
                lease_until=lease_until,
                attempts=delivery.attempts,
                webhook_id=webhook.id,
                url=webhook.url,
                headers=dict(webhook.headers),
                secrets=_signing_secrets(webhook, now),
                event_id=event.id,
                body=event_json(event),
            )
            for delivery, webhook, event in await queue.loaded(due)
        ]

    async def _deliver_in_order(self, job: Job, stop: asyncio.Event) -> None:
        run = [job]
        while run:
            results = await self._post_run(run, stop)
            run = await self._record(run, results, take_next=not stop.is_set())

    async def _post_run(self, run: list[Job], stop: asyncio.Event) -> list[EgressResult]:
        """POST a run's deliveries in order until one fails, the run's time is up or the
        worker is stopping."""
        results: list[EgressResult] = []
        started = time.monotonic()
        for job in run:
            if results and (stop.is_set() or time.monotonic() - started >= RUN_SECONDS):
                break
            timestamp = int(self.wall_clock())
            headers = {
                **job.headers,
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                **sign_headers(
                    job.secrets, msg_id=job.event_id, timestamp=timestamp, body=job.body
                ),
            }
            result = await self.poster.post(job.url, job.body, headers)
            results.append(result)
            if not _answered_2xx(result):
                break
        return results

    async def _record(
        self, run: list[Job], results: list[EgressResult], *, take_next: bool
    ) -> list[Job]:
        """Record a run's attempts in one transaction; returns the order's next run, leased,
        if every attempt succeeded and `take_next` is set.

        Deliveries of the run that were not sent are handed back unattempted, to be leased
        afresh with the next run: kept, they could outlive their lease behind a slow endpoint."""
        sent, unsent = run[: len(results)], run[len(results) :]
        try:
            async with self.writes.begin() as session:
                queue = WebhookJobs(session)
                deliveries = await queue.held([job.delivery_id for job in sent])
                attempts: list[WebhookAttempt] = []
                succeeded = True
                for job, result in zip(sent, results, strict=True):
                    delivery = deliveries.get(job.delivery_id)
                    settled = await self._settle(session, delivery, job, result, attempts)
                    succeeded = settled and succeeded
                # One INSERT for the run's attempts; it first flushes the deliveries' changes
                # (one UPDATE statement for all that changed alike).
                await insert_rows(session, attempts)
                if unsent:
                    await queue.release([job.delivery_id for job in unsent], unsent[0].lease_until)
                if not (succeeded and take_next):
                    return []
                now = self.clock.now()
                first = run[0]
                following = await queue.next_run(
                    first.webhook_id,
                    first.order_key,
                    now,
                    limit=RUN_LENGTH,
                    max_bytes=RUN_BYTES,
                )
                return await self._lease(queue, following, now)
        except Exception:
            log.exception("recording webhook attempts %s failed", [j.delivery_id for j in sent])
            return []

    async def _settle(
        self,
        session: AsyncSession,
        delivery: WebhookDelivery | None,
        job: Job,
        result: EgressResult,
        attempts: list[WebhookAttempt],
    ) -> bool:
        """Add the attempt to `attempts` and apply what follows from it to the (held)
        delivery; True if the delivery succeeded."""
        now = self.clock.now()
        webhook = await session.get(Webhook, job.webhook_id)  # after the first, from the session
        if delivery is None or webhook is None or delivery.lease_until != job.lease_until:
            return False  # deleted meanwhile, or our lease ran out and another worker took it
        attempt = WebhookAttempt(
            org_id=delivery.org_id,
            identity_id=delivery.identity_id,
            delivery_id=delivery.id,
            attempted_at=now,
            status_code=result.status,
            latency_ms=result.latency_ms,
            response_excerpt=result.excerpt,
            error=result.error,
        )
        attempts.append(attempt)
        delivery.last_status_code = result.status
        delivery.last_error = result.error
        delivery.lease_until = None
        delivery.updated_at = now
        status = result.status
        if _answered_2xx(result):
            delivery.status = "succeeded"
            delivery.completed_at = now
            webhook.failing_since = None
            return True
        webhook.failing_since = webhook.failing_since or now
        delay = None
        if result.error_kind != "refused" and is_retryable(status):
            delay = next_delay(job.attempts, retry_after=_retry_after(result, now), rng=self.rng)
        if delay is not None:
            delivery.next_attempt_at = now + delay
            return False
        delivery.status = "failed"
        delivery.completed_at = now
        if status == 410:
            await self._disable(session, webhook, "the endpoint answered 410 Gone", now)
        elif now - webhook.failing_since >= FAILURE_WINDOW:
            await self._disable(
                session, webhook, f"every delivery failed for {FAILURE_WINDOW.days}+ days", now
            )
        return False

    async def _disable(
        self, session: AsyncSession, webhook: Webhook, reason: str, now: datetime
    ) -> None:
        """Stop a subscription and tell its owner with a `webhook.disabled` event."""
        webhook.enabled = False
        webhook.disabled_reason = reason
        webhook.updated_at = now
        await WebhookDeliveryRepository(session, Scope(webhook.org_id)).cancel_pending(
            webhook.id, now
        )
        await session.flush()
        await append_event(
            session,
            org_id=webhook.org_id,
            identity_id=webhook.identity_id,
            mailbox_id=webhook.mailbox_id,
            type_="webhook.disabled",
            data={"webhook_id": webhook.id, "url": webhook.url, "reason": reason},
            now=now,
        )
        log.warning("webhook %s disabled: %s", webhook.id, reason)


def _answered_2xx(result: EgressResult) -> bool:
    """A delivery succeeded: the endpoint answered 2xx (even if its body was cut short)."""
    return result.status is not None and 200 <= result.status < 300


def _retry_after(result: EgressResult, now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    value = result.headers.get("retry-after", "").strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when - now if when.tzinfo is not None else None
