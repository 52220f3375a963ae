"""Sending: turn an API send into a stored outbound message plus one delivery job per recipient.

Everything is validated and built before anything is written; the raw message is a durable
blob before the rows that refer to it; the message and its jobs commit in the caller's one
transaction (the transactional outbox), so an accepted send is never lost or half-queued.

Where writers are serial (SQLite: one write connection per process), a send is prepared
(looked up, with the message a reply or forward answers; built, parsed, its blobs written
and fsync'd) on a read session first, and only then takes the write connection for its
quota check and rows. Preparing inside the write transaction held that connection, which
every send, claim and settle waits for, about twice as long. The quota check stays in the
write transaction, where no other send can interleave.

Who a send goes out as (`SendingAs`: the From name and address) may come from
`Runtime.senders`, answers a lookup gave in the last `sender_cache_seconds`: that lookup, a
read session of its own on SQLite, was about a fifteenth of a send's cost. The mailbox and
its identity's status are still read in the write transaction, so a paused or deleted sender
sends nothing; a new display name set through another process may take that long to reach
the From line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.blobs import BlobStore
from tidings_server.clock import Clock
from tidings_server.directory.keys import Principal
from tidings_server.directory.mailboxes import MailboxService
from tidings_server.directory.recent import Recent
from tidings_server.errors import Conflict, NotFound
from tidings_server.mail.filing import Filing, file_message
from tidings_server.mail.tracking import Tracking
from tidings_server.mime import (
    Address,
    OutgoingAttachment,
    ParsedMessage,
    build_message,
    forward_subject,
    parse_message,
    reply_subject,
)
from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import Delivery, Mailbox, Message
from tidings_server.store.repositories.mail import MessageRepository
from tidings_server.store.scope import Scope
from tidings_server.usage.headers import refuse_reserved
from tidings_server.usage.metering import Billing, Charge, SendMetering
from tidings_server.usage.pricing import UsageReport


@dataclass(frozen=True)
class Outgoing:
    """What the caller asked to send, already decoded (attachments as bytes)."""

    to: Sequence[str]
    subject: str
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    body_text: str | None = None
    body_html: str | None = None
    attachments: Sequence[OutgoingAttachment] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    in_reply_to: str | None = None  # a Tidings message id (msg_...) or an RFC Message-ID
    idempotency_key: str | None = None
    correlation_id: str | None = None
    usage: UsageReport | None = None  # the work behind this send, priced and booked
    billing: Billing = field(default_factory=Billing)


@dataclass(frozen=True)
class OutboundPolicy:
    domain: str
    route: str  # where mail for other domains goes: capture | relay | mx
    lifetime: timedelta  # how long temporary failures are retried before bouncing
    currency: str  # of the usage ledger


def _distinct(addresses: Sequence[str], *, exclude: set[str]) -> list[str]:
    seen = {e.lower() for e in exclude}
    result = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


def route_for(recipient: str, policy: OutboundPolicy) -> str:
    domain = recipient.rpartition("@")[2].lower()
    return "internal" if domain == policy.domain else policy.route


@dataclass(frozen=True)
class SendingAs:
    """Who a send goes out as, from its mailbox and identity."""

    mailbox_id: str
    address: str
    identity_id: str
    name: str  # the From display name: the mailbox's, else its identity's, else none

    @classmethod
    def of(cls, mailbox: Mailbox) -> SendingAs:
        identity = mailbox.identity
        name = mailbox.display_name or identity.display_name or ""
        return cls(mailbox.id, mailbox.address, identity.id, name)


# Keyed by the caller's scope too: an agent key must not be answered from a root key's lookup.
Senders = Recent[tuple[Scope, str], SendingAs]


@dataclass(frozen=True)
class _Prepared:
    """A send built and its blobs stored, ready for its rows."""

    charge: Charge
    recipients: list[str]
    parsed: ParsedMessage
    filing: Filing


class MailSender:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        blobs: BlobStore,
        policy: OutboundPolicy,
        *,
        lookups: async_sessionmaker[AsyncSession] | None = None,
        senders: Senders | None = None,
    ) -> None:
        """`session` is the caller's unit of work, which the send's rows go into. `lookups`,
        given where writers are serial, prepares each send on a read session instead, so
        the unit of work starts only once the message is built and stored. `senders` keeps
        who sends from an address for a while (see the module's docstring)."""
        self.session = session
        self.principal = principal
        self.clock = clock
        self.blobs = blobs
        self.policy = policy
        self.lookups = lookups
        self.senders = senders if senders is not None else Recent(0)
        self.mailboxes = MailboxService(session, principal, clock)
        self.messages = MessageRepository(session, principal.scope)
        self.metering = SendMetering(session, principal, policy.currency)

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[MailSender]:
        """The sender to look things up with: one on a read session if `lookups` is given,
        else this one."""
        if self.lookups is None:
            yield self
            return
        async with self.lookups() as session:
            yield MailSender(
                session, self.principal, self.clock, self.blobs, self.policy,
                senders=self.senders,
            )  # fmt: skip

    async def send(self, address: str, outgoing: Outgoing) -> Message:
        async with self._reader() as reader:
            prepared = await reader._prepare(address, outgoing)
        # Looked up again in the unit of work (from its memo when `_prepare` ran there): its
        # rows refer to this mailbox, and a paused identity sends nothing.
        mailbox = await self._sending_mailbox(address)
        now = self.clock.now()
        await self.metering.admit(mailbox.identity.id, prepared.recipients, prepared.charge, now)
        message = (
            await file_message(self.session, mailbox, prepared.parsed, prepared.filing, now)
        ).message
        await insert_rows(self.session, [self._job(message, r, now) for r in prepared.recipients])
        await self.metering.book(message, prepared.charge, prepared.recipients, now)
        await self.session.flush()
        return message

    async def _prepare(self, address: str, outgoing: Outgoing) -> _Prepared:
        """The send validated, built and parsed, its raw message and attachments stored as
        blobs: everything but its rows."""
        sender = await self._sending_as(address)
        refuse_reserved(outgoing.headers)
        in_reply_to, references = await self._thread_headers(sender, outgoing.in_reply_to)
        charge = await self.metering.price(sender.identity_id, outgoing.usage, outgoing.billing)
        tracking = Tracking.for_send(
            correlation_id=outgoing.correlation_id,
            idempotency_key=outgoing.idempotency_key,
            headers=outgoing.headers,
        )
        built = build_message(
            from_=Address(sender.name, sender.address),
            to=outgoing.to,
            cc=outgoing.cc,
            bcc=outgoing.bcc,
            subject=outgoing.subject,
            domain=self.policy.domain,
            body_text=outgoing.body_text,
            body_html=outgoing.body_html,
            attachments=outgoing.attachments,
            headers=tracking.mime_headers(outgoing.headers),
            system_headers=charge.mime_headers,
            in_reply_to=in_reply_to,
            references=references,
        )
        parsed = parse_message(built.raw)
        # Stored before the rows that refer to them; a send refused after this (by its quota)
        # leaves blobs no row uses, which the orphan collector deletes.
        raw_key = await self.blobs.put(built.raw)
        attachment_keys = [await self.blobs.put(part.content) for part in parsed.attachments]
        filing = Filing(
            direction="outbound",
            status="queued",
            raw_key=raw_key,
            attachment_keys=attachment_keys,
            size=len(built.raw),
            envelope_from=built.sender,
            participants={r.lower() for r in built.recipients} - {sender.address},
            bcc=outgoing.bcc,
            idempotency_key=tracking.idempotency_key,
            correlation_id=tracking.correlation_id,
            api_key_id=self.principal.key_id,
            reservation_key=charge.reservation_key,
            marketplace_request_id=outgoing.billing.marketplace_request_id,
            usage=charge.usage_json,
            is_read=True,
        )
        recipients = list(dict.fromkeys(r.lower() for r in built.recipients))
        return _Prepared(charge, recipients, parsed, filing)

    async def _sending_as(self, address: str) -> SendingAs:
        key = (self.principal.scope, address)
        found = self.senders.get(key)
        if found is None:
            found = SendingAs.of(await self._sending_mailbox(address))
            self.senders.put(key, found)
        return found

    async def _sending_mailbox(self, address: str) -> Mailbox:
        mailbox = await self.mailboxes.get(address, with_identity=True)
        if mailbox.identity.status != "active":
            raise Conflict(
                f"The identity {mailbox.identity.handle!r} is paused and cannot send.",
                code="identity_paused",
                param="address",
                fix=f"PATCH /v1/identities/{mailbox.identity.handle} with status active, "
                "then retry.",
            )
        return mailbox

    async def reply(
        self, address: str, message_id: str, outgoing: Outgoing, *, to_all: bool
    ) -> Message:
        """Answer a message: recipients, `Re:` subject and threading headers come from it."""
        async with self._reader() as reader:
            mailbox = await reader.mailboxes.get(address)
            original = await reader._original(mailbox, message_id)
        own = mailbox.address
        if original.direction == "outbound":
            targets = [a["address"] for a in original.to]
        else:
            targets = [a["address"] for a in (original.reply_to or original.from_)]
        to = _distinct([*targets, *outgoing.to], exclude={own})
        cc = list(outgoing.cc)
        if to_all:
            others = [a["address"] for a in [*original.to, *original.cc]]
            cc = _distinct([*others, *cc], exclude={own, *to})
        return await self.send(
            address,
            replace(
                outgoing,
                to=to or targets,
                cc=cc,
                subject=reply_subject(original.subject),
                in_reply_to=original.id,
            ),
        )

    async def forward(self, address: str, message_id: str, outgoing: Outgoing) -> Message:
        """Send a message on, quoted below the caller's note, with its attachments."""
        async with self._reader() as reader:
            mailbox = await reader.mailboxes.get(address)
            original = await reader._original(mailbox, message_id)
        sender = original.from_[0]["address"] if original.from_ else ""
        quoted = "\n".join(
            [
                "---------- Forwarded message ---------",
                f"From: {sender}",
                f"Date: {original.sent_at or original.created_at}",
                f"Subject: {original.subject}",
                f"To: {', '.join(a['address'] for a in original.to)}",
                "",
                original.body_text or "",
            ]
        )
        note = outgoing.body_text or ""
        carried = [
            OutgoingAttachment(
                filename=a.filename or a.id,
                content_type=a.content_type,
                content=await self.blobs.get(a.blob),
                content_id=a.content_id if a.inline else None,
            )
            for a in original.attachments
        ]
        return await self.send(
            address,
            replace(
                outgoing,
                subject=forward_subject(original.subject),
                body_text=f"{note}\n\n{quoted}" if note else quoted,
                body_html=outgoing.body_html,
                attachments=[*outgoing.attachments, *carried],
            ),
        )

    async def _original(self, mailbox: Mailbox, message_id: str) -> Message:
        original = await self.messages.get(message_id)
        if original is None or original.mailbox_id != mailbox.id:
            raise NotFound(f"No message {message_id!r} in {mailbox.address}.", param="message_id")
        return original

    def _job(self, message: Message, recipient: str, now: datetime) -> Delivery:
        return Delivery(
            org_id=message.org_id,
            identity_id=message.identity_id,
            message_id=message.id,
            recipient=recipient,
            domain=recipient.rpartition("@")[2],
            route=route_for(recipient, self.policy),
            status="queued",
            attempts=0,
            next_attempt_at=now,
            expires_at=now + self.policy.lifetime,
            created_at=now,
            updated_at=now,
        )

    async def _thread_headers(
        self, sender: SendingAs, in_reply_to: str | None
    ) -> tuple[str | None, list[str]]:
        """In-Reply-To and the full References chain for a reply."""
        if in_reply_to is None:
            return None, []
        if not in_reply_to.startswith("msg_"):
            return in_reply_to, [in_reply_to]
        original = await self.messages.get(in_reply_to)
        if original is None or original.mailbox_id != sender.mailbox_id:
            raise NotFound(f"No message {in_reply_to!r} in {sender.address}.", param="in_reply_to")
        if original.rfc_message_id is None:
            return None, list(original.references)
        return original.rfc_message_id, [*original.references, original.rfc_message_id]
