"""Receiving mail from outside: which recipients are ours, and storing what arrives durably.

`MailReceiver` is what the SMTP handler calls; it answers in domain terms (a verdict, the
stored message ids) and the handler turns those into SMTP replies. Messages arriving on
several sessions at once are filed in shared transactions (`store.group_commit`): each
session still gets its 250 only after its own message is committed.

A hosted address found at RCPT is accepted without a lookup for a few seconds after
(`known`): the read session and lookup were a tenth of receiving a 4 KiB message. Only
addresses found are remembered, so a new mailbox receives at once. A mailbox deleted through
this process is forgotten as the deletion commits (`directory.recent`); one deleted by
another process may still be accepted at RCPT for those seconds, and then gets what a
deletion between RCPT and DATA always got: the message is filed for the other recipients
only, or refused with 550 after DATA when it has no other.
"""

from __future__ import annotations

from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.blobs import BlobStore
from tidings_server.clock import Clock
from tidings_server.directory.recent import Recent
from tidings_server.mail.addresses import Recipient, classify
from tidings_server.mail.inbound import Received, add_to_mailbox, receive_bytes
from tidings_server.store.group_commit import GroupCommit
from tidings_server.store.repositories.mail import MailRouting


class Verdict(Enum):
    ACCEPT = "accept"
    NO_SUCH_USER = "no_such_user"
    FOREIGN_DOMAIN = "foreign_domain"
    ROUTING_TRICK = "routing_trick"


class MailReceiver:
    def __init__(
        self,
        *,
        reads: async_sessionmaker[AsyncSession],
        writes: async_sessionmaker[AsyncSession],
        blobs: BlobStore,
        clock: Clock,
        domain: str,
        currency: str,
        known: Recent[str, bool],
        filing_lanes: int = 1,
    ) -> None:
        """`known`: hosted addresses found lately, shared with what clears it (see the module's
        docstring); `filing_lanes`: filing transactions that may run at once (`GroupCommit`)."""
        self.known = known
        self.reads = reads
        self.blobs = blobs
        self.clock = clock
        self.domain = domain
        self.currency = currency
        self.filing: GroupCommit[list[str]] = GroupCommit(writes, lanes=filing_lanes)

    async def check_recipient(self, address: str) -> tuple[Verdict, str]:
        """The verdict on one RCPT TO, and the normalised address to deliver to."""
        kind, normalised = classify(address, self.domain)
        if kind is Recipient.FOREIGN_DOMAIN:
            return Verdict.FOREIGN_DOMAIN, address
        if kind is Recipient.ROUTING_TRICK:
            return Verdict.ROUTING_TRICK, address
        if self.known.get(normalised):
            return Verdict.ACCEPT, normalised
        async with self.reads() as session:
            found = await MailRouting(session).mailbox_for(normalised)
        if found is None:
            return Verdict.NO_SUCH_USER, normalised
        self.known.put(normalised, True)
        return Verdict.ACCEPT, normalised

    async def receive(
        self, envelope_from: str | None, recipients: list[str], raw: bytes
    ) -> list[str]:
        """Store one copy per recipient mailbox; returns only after everything is committed."""
        received = await receive_bytes(raw, self.blobs)

        async def store(session: AsyncSession) -> list[str]:
            return await self._store(session, envelope_from, recipients, received)

        return await self.filing.run(store)

    async def _store(
        self,
        session: AsyncSession,
        envelope_from: str | None,
        recipients: list[str],
        received: Received,
    ) -> list[str]:
        routing = MailRouting(session)
        stored = []
        for address in dict.fromkeys(recipients):
            found = await routing.mailbox_for(address)
            if found is None:  # deleted between RCPT and DATA: the message still lands elsewhere
                continue
            mailbox, _identity = found
            message = await add_to_mailbox(
                session,
                mailbox,
                received,
                envelope_from=envelope_from,
                currency=self.currency,
                now=self.clock.now(),
            )
            stored.append(message.id)
        return stored
