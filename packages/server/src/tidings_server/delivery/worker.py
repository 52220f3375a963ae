"""The delivery worker: claim due jobs with a lease, deliver, and settle each outcome durably.

A claim sets `lease_until`; a worker that dies leaves jobs that become due again when the
lease runs out, so another worker redelivers them: at most one duplicate per crash (the remote
may have accepted the message just before the crash). Internal deliveries happen inside the
settling transaction and so are exactly-once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.blobs import BlobStore
from tidings_server.clock import Clock
from tidings_server.delivery import bounces, dkim_keys
from tidings_server.delivery.transport import Outcome, Result, Transport
from tidings_server.events import append_event
from tidings_server.events.payloads import message_data
from tidings_server.mail.inbound import Received, add_to_mailbox, receive_bytes
from tidings_server.polling import SlotWork, fill_slots
from tidings_server.store.group_commit import GroupCommit
from tidings_server.store.models import DkimKey, Message
from tidings_server.store.repositories.deliveries import PENDING, DeliveryJobs, Settling
from tidings_server.store.repositories.mail import MailRouting

log = logging.getLogger("tidings.delivery")

# Seconds before retry n (1-based); the last step repeats until the message's lifetime ends.
BACKOFF = (60, 300, 900, 1800, 3600, 7200, 14400)
_EVENT_FOR = {
    "sent": "message.sent",
    "captured": "message.sent",
    "delivered": "message.delivered",
    "deferred": "message.delayed",
    "bounced": "message.bounced",
    "failed": "message.failed",
}


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try, with ±10% jitter."""
    base = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    return timedelta(seconds=base * random.uniform(0.9, 1.1))


def message_status(statuses: Sequence[str]) -> str:
    """A message's status from its deliveries' statuses."""
    if any(s in PENDING for s in statuses):
        return "delayed" if "deferred" in statuses else "queued"
    if "bounced" in statuses:
        return "bounced"
    if "failed" in statuses:
        return "failed"
    if all(s == "captured" for s in statuses):
        return "captured"
    if all(s == "delivered" for s in statuses):
        return "delivered"
    return "sent"


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    recipient: str
    domain: str
    route: str
    attempts: int
    expires_at: datetime
    lease_until: datetime
    envelope_from: str | None
    raw_blob: str


@dataclass(frozen=True)
class Settled:
    """How one recipient's delivery went, as recorded on its job and told in its event."""

    recipient: str
    status: str
    attempts: int
    code: int | None
    detail: str | None
    next_attempt_at: datetime | None


class DeliveryWorker:
    def __init__(
        self,
        *,
        reads: async_sessionmaker[AsyncSession],
        writes: async_sessionmaker[AsyncSession],
        blobs: BlobStore,
        clock: Clock,
        domain: str,
        transports: Mapping[str, Transport],
        currency: str,
        batch: int = 50,
        lease: timedelta = timedelta(minutes=5),
        poll_seconds: float = 0.2,
        group_settles: bool = False,
    ) -> None:
        """`group_settles`: remote outcomes that arrive together are settled in one
        transaction (`GroupCommit`). Right where writers are serial anyway (SQLite: +10-20%
        delivered/s); wrong on PostgreSQL, where each settle takes its organisation's event
        order lock (`EventWriting.hold_order`) and a shared transaction would hold it across
        every unit's round trips: measured, settles queued for seconds, past their lease.
        """
        self.reads = reads
        self.writes = writes
        self.blobs = blobs
        self._dkim_key: DkimKey | None = None
        self._internal_lane = asyncio.Lock()
        self.clock = clock
        self.domain = domain
        self.currency = currency
        self.transports = transports
        self.batch = batch
        self.lease = lease
        self.poll_seconds = poll_seconds
        # Ungrouped, each settle is its own transaction, as many at once as jobs in flight.
        self._settling: GroupCommit[None] = (
            GroupCommit(writes) if group_settles else GroupCommit(writes, lanes=batch, max_units=1)
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; the jobs in hand are finished first.

        Up to `batch` jobs are in flight at once, each (message, route, domain) group in its
        own task, and a slot is refilled as soon as it frees up (`fill_slots`): a slow or
        refusing peer holds up only its own jobs, not the rest of the queue behind a batch.
        """

        async def claim(free: int) -> list[SlotWork]:
            groups = self._groups(await self.claim(limit=free))
            return [(len(group), self._deliver_group(key, group)) for key, group in groups.items()]

        try:
            await fill_slots(stop, claim, slots=self.batch, poll_seconds=self.poll_seconds,
                             log=log, what="a delivery")  # fmt: skip
        finally:
            for transport in self.transports.values():
                await transport.close()

    async def run_once(self) -> int:
        """One pass: claim what is due and deliver it. Returns how many jobs were handled."""
        jobs = await self.claim()
        return await self.deliver(jobs)

    @staticmethod
    def _groups(jobs: list[Claimed]) -> dict[tuple[str, str, str], list[Claimed]]:
        """Jobs that go out together: one message, one route, one domain."""
        groups: dict[tuple[str, str, str], list[Claimed]] = defaultdict(list)
        for job in jobs:
            groups[(job.message_id, job.route, job.domain)].append(job)
        return groups

    async def _deliver_group(self, key: tuple[str, str, str], group: list[Claimed]) -> None:
        message_id, route, domain = key
        if route == "internal":
            # One lane, taken in claim order (asyncio locks are FIFO): mail between hosted
            # mailboxes arrives in the order it was sent, as it did before delivery went
            # concurrent. Only remote deliveries overlap.
            async with self._internal_lane:
                await self._deliver_internal(message_id, group)
        else:
            await self._deliver_external(message_id, route, domain, group)

    async def deliver(self, jobs: list[Claimed]) -> int:
        """Deliver claimed jobs, grouped by message, route and domain, concurrently."""
        await asyncio.gather(*(self._deliver_group(k, g) for k, g in self._groups(jobs).items()))
        return len(jobs)

    async def claim(self, limit: int | None = None) -> list[Claimed]:
        """Take due jobs under a lease (public so tests can play a worker that dies)."""
        now = self.clock.now()
        lease_until = now + self.lease
        async with self.writes.begin() as session:
            rows = await DeliveryJobs(session).lease_due(now, limit or self.batch, lease_until)
        return [Claimed(*row) for row in rows]

    async def _raw(self, jobs: list[Claimed]) -> tuple[str | None, bytes]:
        """The envelope sender and bytes of the message these jobs deliver."""
        return jobs[0].envelope_from, await self.blobs.get(jobs[0].raw_blob)

    async def _deliver_external(
        self, message_id: str, route: str, domain: str, jobs: list[Claimed]
    ) -> None:
        envelope_from, raw = await self._raw(jobs)
        key = await self._signing_key()
        # On a thread: OpenSSL's RSA step (most of a signature) runs without the GIL, so
        # signing takes the other core instead of a millisecond of the event loop's.
        signed = await asyncio.to_thread(dkim_keys.sign, raw, key) if key is not None else raw
        transport = self.transports[route]
        try:
            outcomes = await transport.send(
                envelope_from or "", [j.recipient for j in jobs], signed, domain=domain
            )
        except Exception as exc:
            log.exception("transport %s failed for %s", route, message_id)
            outcomes = {j.recipient: Outcome(Result.TEMPORARY, None, str(exc)) for j in jobs}

        async def settle(session: AsyncSession) -> None:
            settling = await DeliveryJobs(session).settling(message_id)
            if settling is None:
                return  # deleted meanwhile, and its deliveries with it
            recorded = []
            for job in jobs:
                outcome = outcomes.get(job.recipient, Outcome(Result.TEMPORARY, None, "no answer"))
                status = "sent" if outcome.result is Result.SENT else outcome.result.value
                if outcome.result is Result.TEMPORARY:
                    status = "deferred"
                elif outcome.result is Result.PERMANENT:
                    status = "bounced"
                recorded.append(await self._settle(session, settling, job, status, outcome))
            await self._finish_message(session, settling, recorded)

        await self._settling.run(settle)

    async def _signing_key(self) -> DkimKey | None:
        """The domain's DKIM key, read once: it is made at first start and never changes."""
        if self._dkim_key is None:
            async with self.reads() as session:
                self._dkim_key = await session.get(DkimKey, self.domain)
        return self._dkim_key

    async def _deliver_internal(self, message_id: str, jobs: list[Claimed]) -> None:
        envelope_from, raw = await self._raw(jobs)
        received: Received = await receive_bytes(raw, self.blobs)
        async with self.writes.begin() as session:
            settling = await DeliveryJobs(session).settling(message_id)
            if settling is None:
                return  # deleted meanwhile, and its deliveries with it
            routing = MailRouting(session)
            recorded = []
            for job in jobs:
                found = await routing.mailbox_for(job.recipient)
                if found is None:
                    outcome = Outcome(Result.PERMANENT, 550, "5.1.1 no such mailbox here")
                    recorded.append(await self._settle(session, settling, job, "bounced", outcome))
                    continue
                mailbox, _identity = found
                await add_to_mailbox(
                    session, mailbox, received, envelope_from=envelope_from,
                    currency=self.currency, now=self.clock.now(),
                )  # fmt: skip
                delivered = Outcome(Result.SENT, 250, "delivered")
                recorded.append(await self._settle(session, settling, job, "delivered", delivered))
            await self._finish_message(session, settling, recorded)

    async def _settle(
        self,
        session: AsyncSession,
        settling: Settling,
        job: Claimed,
        status: str,
        outcome: Outcome,
    ) -> str | None:
        """Record how `job` went; returns the status recorded, or None if the lease was lost."""
        message = settling.message
        now = self.clock.now()
        delay = retry_delay(job.attempts)
        if status == "deferred" and now + delay >= job.expires_at:
            # Nobody refused it, but it could not be delivered in time: it failed.
            status = "failed"
            outcome = Outcome(
                Result.PERMANENT,
                outcome.code,
                f"gave up after {job.attempts} attempts: {outcome.detail}",
            )
        settled = Settled(
            recipient=job.recipient,
            status=status,
            attempts=job.attempts,
            code=outcome.code,
            detail=outcome.detail[:2000] or None,
            next_attempt_at=now + delay if status == "deferred" else None,
        )
        changes: dict[str, Any] = {
            "status": status, "last_code": settled.code, "last_error": settled.detail,
            "lease_until": None, "updated_at": now,
        }  # fmt: skip
        if settled.next_attempt_at is not None:
            changes["next_attempt_at"] = settled.next_attempt_at
        if not await DeliveryJobs(session).settle(job.id, job.lease_until, changes):
            return None
        await append_event(
            session,
            org_id=message.org_id,
            identity_id=message.identity_id,
            mailbox_id=message.mailbox_id,
            type_=_EVENT_FOR[status],
            data=await _event_data(session, settling, settled),
            now=now,
        )
        if status in ("bounced", "failed"):
            await self._bounce(session, message, settled)
        return status

    async def _bounce(self, session: AsyncSession, message: Message, job: Settled) -> None:
        """Put a delivery status notification into the sender's mailbox."""
        raw = await self.blobs.get(message.raw_blob)
        report = bounces.build_report(
            domain=self.domain,
            sender=message.envelope_from or "",
            original_headers=raw.split(b"\r\n\r\n", 1)[0] + b"\r\n",
            original_message_id=message.rfc_message_id,
            original_subject=message.subject,
            failures=[bounces.Failure(job.recipient, job.code, job.detail or "")],
            arrival=message.created_at,
            now=self.clock.now(),
        )
        found = await MailRouting(session).mailbox_for((message.envelope_from or "").lower())
        if found is None:
            return  # the sender's mailbox is gone; nobody to tell
        received = await receive_bytes(report, self.blobs)
        await add_to_mailbox(
            session, found[0], received, envelope_from="", currency=self.currency,
            now=self.clock.now(),
        )  # fmt: skip

    async def _finish_message(
        self, session: AsyncSession, settling: Settling, recorded: list[str | None]
    ) -> None:
        """Set the message's status from its deliveries', read back only if some of them
        were not settled here (other recipients, or a lease this worker lost)."""
        message = settling.message
        statuses = [status for status in recorded if status is not None]
        if len(statuses) < settling.deliveries:
            statuses = await DeliveryJobs(session).statuses(message.id)
        if statuses:
            message.status = message_status(statuses)
            message.updated_at = self.clock.now()


async def _event_data(session: AsyncSession, settling: Settling, job: Settled) -> dict[str, Any]:
    """The message payload, plus how this recipient's delivery went and which send it was."""
    message = settling.message
    return {
        **await message_data(session, message, settling.thread),
        "idempotency_key": message.idempotency_key,
        "correlation_id": message.correlation_id,
        "delivery": {
            "recipient": job.recipient,
            "status": job.status,
            "attempts": job.attempts,
            "code": job.code,
            "detail": job.detail,
            "next_attempt_at": None
            if job.next_attempt_at is None
            else job.next_attempt_at.isoformat(),
        },
    }
