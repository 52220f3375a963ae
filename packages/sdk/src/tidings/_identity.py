"""Identity objects: an `Identity` bound to the client that fetched it, with its mailbox's mail
one call away (`bot.send_email(...)`, `bot.iter_unread_emails()`, ...), and usage-priced
sending by the names the hosted agent-mail SDKs use (`send_mail`, `send_marketplace_request`,
`send_marketplace_response`).

The binding is a private attribute, so the object's data and its `model_dump()` are exactly
an `Identity`'s. Each method is the resource call with this identity's mailbox filled in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Self, Unpack

from pydantic import PrivateAttr

from tidings._amounts import AmountInput
from tidings._exceptions import TidingsError
from tidings._models import Deleted, Identity, Message, MessageSummary, NotModified, Thread
from tidings._usage import MarketplaceMessage

if TYPE_CHECKING:
    from tidings.resources._composition import Addresses, Composition
    from tidings.resources.identities import AsyncIdentities, Identities
    from tidings.resources.marketplace import AsyncMarketplaceRequests, MarketplaceRequests
    from tidings.resources.messages import AsyncMessages, MessageFilters, Messages
    from tidings.resources.threads import AsyncThreads, Threads

__all__ = ["AsyncBindings", "AsyncBoundIdentity", "BoundIdentity", "SyncBindings"]

Status = Literal["active", "paused"]
_UNBOUND = "this identity is not bound to a client: get it from td.identities"


@dataclass(frozen=True)
class SyncBindings:
    identities: Identities
    messages: Messages
    threads: Threads
    marketplace: MarketplaceRequests


@dataclass(frozen=True)
class AsyncBindings:
    identities: AsyncIdentities
    messages: AsyncMessages
    threads: AsyncThreads
    marketplace: AsyncMarketplaceRequests


def _with_body(body: str | None, composed: Composition) -> Composition:
    """`body=` is the plain-text body, as the hosted SDKs call it: `body_text` by its other
    name. Both given must agree."""
    if body is None:
        return composed
    if composed.get("body_text") not in (None, body):
        raise TypeError("give the plain-text body as body= or body_text=, not both")
    merged = composed.copy()
    merged["body_text"] = body
    return merged


def _adopt(target: Identity, fresh: Identity) -> None:
    """Take on `fresh`'s data (fields and any newer ones) and ETag, keeping the binding."""
    for name, value in fresh:
        setattr(target, name, value)
    target._etag = fresh._etag


class BoundIdentity(Identity):
    """An identity from `td.identities`, with methods for its own mailbox."""

    _bindings: SyncBindings | None = PrivateAttr(default=None)

    @property
    def _td(self) -> SyncBindings:
        if self._bindings is None:
            raise TidingsError(_UNBOUND)
        return self._bindings

    def send_email(
        self,
        *,
        to: Addresses,
        subject: str,
        in_reply_to_message_id: str | None = None,
        **composed: Unpack[Composition],
    ) -> Message:
        """Send from this identity's address; see `td.messages.send`."""
        return self._td.messages.send(
            self.email_address, to=to, subject=subject, in_reply_to=in_reply_to_message_id,
            **composed,
        )  # fmt: skip

    def reply(
        self,
        message_id: str,
        *,
        to: Addresses = (),
        reply_all: bool = False,
        **composed: Unpack[Composition],
    ) -> Message:
        """Reply to a message in this mailbox; see `td.messages.reply`."""
        return self._td.messages.reply(
            self.email_address, message_id, to=to, reply_all=reply_all, **composed
        )

    def send_mail(
        self,
        *,
        to: str | Sequence[str],
        subject: str,
        body: str | None = None,
        **composed: Unpack[Composition],
    ) -> Message:
        """Send from this identity, reporting the work behind it with `usage=` (a `Usage`
        or a dict), priced on this identity's plan. `body` is the plain-text body."""
        return self._td.messages.send(
            self.email_address, to=to, subject=subject,
            **_with_body(body, composed),
        )  # fmt: skip

    def send_marketplace_request(
        self,
        *,
        to: str | Sequence[str],
        subject: str,
        budget: AmountInput,
        body: str | None = None,
        marketplace_request_id: str | None = None,
        **composed: Unpack[Composition],
    ) -> MarketplaceMessage:
        """Ask one seller for work, holding `budget` until its answer settles the request;
        see `td.marketplace_requests.send`. The answer's `marketplace_request_id`,
        `reservation_key` and `marketplace_request` identify it."""
        return self._td.marketplace.send(
            self.email_address, to=to, subject=subject, budget=budget,
            marketplace_request_id=marketplace_request_id, **_with_body(body, composed),
        )  # fmt: skip

    def send_marketplace_response(
        self,
        *,
        marketplace_request_id: str,
        body: str | None = None,
        **composed: Unpack[Composition],
    ) -> MarketplaceMessage:
        """Answer a request this identity received, charging `usage` at its prices (capped
        at the buyer's budget); see `td.marketplace_requests.respond`."""
        return self._td.marketplace.respond(
            self.email_address, marketplace_request_id, **_with_body(body, composed)
        )

    def get_email(self, message_id: str) -> Message:
        return self._td.messages.get(self.email_address, message_id)

    def iter_emails(self, **filters: Unpack[MessageFilters]) -> Iterator[MessageSummary]:
        """Every message that passes the filters (`direction="inbound"`, ...), newest first,
        fetched page by page as you go."""
        return iter(self._td.messages.list(self.email_address, **filters))

    def iter_unread_emails(self) -> Iterator[MessageSummary]:
        return self.iter_emails(direction="inbound", unread=True)

    def mark_emails_read(self, message_ids: Iterable[str]) -> list[Message]:
        return [self._td.messages.mark_read(self.email_address, i) for i in message_ids]

    def get_thread(self, thread_id: str) -> Thread:
        return self._td.threads.get(self.email_address, thread_id)

    def refresh(self) -> Self:
        """Fetch this identity again, in place (a no-op answer when nothing changed)."""
        fresh = self._td.identities.get(self.id, if_none_match=self.etag)
        if not isinstance(fresh, NotModified):
            _adopt(self, fresh)
        return self

    def update(
        self,
        *,
        display_name: str | None = None,
        description: str | None = None,
        status: Status | None = None,
        if_match: str | None = None,
    ) -> Self:
        """Change the fields given, in place; see `td.identities.update`."""
        fresh = self._td.identities.update(
            self.id, display_name=display_name, description=description, status=status,
            if_match=if_match,
        )  # fmt: skip
        _adopt(self, fresh)
        return self

    def delete(self, *, if_match: str | None = None) -> Deleted:
        """Delete this identity and its mailbox; its keys are revoked."""
        return self._td.identities.delete(self.id, if_match=if_match)


class AsyncBoundIdentity(Identity):
    """An identity from the async client's `td.identities`; the same methods, awaitable."""

    _bindings: AsyncBindings | None = PrivateAttr(default=None)

    @property
    def _td(self) -> AsyncBindings:
        if self._bindings is None:
            raise TidingsError(_UNBOUND)
        return self._bindings

    async def send_email(
        self,
        *,
        to: Addresses,
        subject: str,
        in_reply_to_message_id: str | None = None,
        **composed: Unpack[Composition],
    ) -> Message:
        return await self._td.messages.send(
            self.email_address, to=to, subject=subject, in_reply_to=in_reply_to_message_id,
            **composed,
        )  # fmt: skip

    async def reply(
        self,
        message_id: str,
        *,
        to: Addresses = (),
        reply_all: bool = False,
        **composed: Unpack[Composition],
    ) -> Message:
        return await self._td.messages.reply(
            self.email_address, message_id, to=to, reply_all=reply_all, **composed
        )

    async def send_mail(
        self,
        *,
        to: str | Sequence[str],
        subject: str,
        body: str | None = None,
        **composed: Unpack[Composition],
    ) -> Message:
        return await self._td.messages.send(
            self.email_address, to=to, subject=subject,
            **_with_body(body, composed),
        )  # fmt: skip

    async def send_marketplace_request(
        self,
        *,
        to: str | Sequence[str],
        subject: str,
        budget: AmountInput,
        body: str | None = None,
        marketplace_request_id: str | None = None,
        **composed: Unpack[Composition],
    ) -> MarketplaceMessage:
        return await self._td.marketplace.send(
            self.email_address, to=to, subject=subject, budget=budget,
            marketplace_request_id=marketplace_request_id, **_with_body(body, composed),
        )  # fmt: skip

    async def send_marketplace_response(
        self,
        *,
        marketplace_request_id: str,
        body: str | None = None,
        **composed: Unpack[Composition],
    ) -> MarketplaceMessage:
        return await self._td.marketplace.respond(
            self.email_address, marketplace_request_id, **_with_body(body, composed)
        )

    async def get_email(self, message_id: str) -> Message:
        return await self._td.messages.get(self.email_address, message_id)

    async def iter_emails(self, **filters: Unpack[MessageFilters]) -> AsyncIterator[MessageSummary]:
        """`async for` every message that passes the filters, fetched page by page."""
        page = await self._td.messages.list(self.email_address, **filters)
        async for message in page:
            yield message

    def iter_unread_emails(self) -> AsyncIterator[MessageSummary]:
        return self.iter_emails(direction="inbound", unread=True)

    async def mark_emails_read(self, message_ids: Iterable[str]) -> list[Message]:
        return [await self._td.messages.mark_read(self.email_address, i) for i in message_ids]

    async def get_thread(self, thread_id: str) -> Thread:
        return await self._td.threads.get(self.email_address, thread_id)

    async def refresh(self) -> Self:
        fresh = await self._td.identities.get(self.id, if_none_match=self.etag)
        if not isinstance(fresh, NotModified):
            _adopt(self, fresh)
        return self

    async def update(
        self,
        *,
        display_name: str | None = None,
        description: str | None = None,
        status: Status | None = None,
        if_match: str | None = None,
    ) -> Self:
        fresh = await self._td.identities.update(
            self.id, display_name=display_name, description=description, status=status,
            if_match=if_match,
        )  # fmt: skip
        _adopt(self, fresh)
        return self

    async def delete(self, *, if_match: str | None = None) -> Deleted:
        return await self._td.identities.delete(self.id, if_match=if_match)
