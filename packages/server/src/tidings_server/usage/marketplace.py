"""Marketplace requests through the API: a buyer asks and holds a budget; a seller answers.

The buyer's request is a send to one seller that reserves `budget` (its reservation key is
the send's) until the answer settles it or it expires. The seller answers with its usage:
priced on its own plan, capped at the buyer's budget, booked as its earnings, and sent as a
reply whose headers carry the charge, which the buyer's side settles on receipt.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from tidings_server import ids
from tidings_server.clock import Clock
from tidings_server.directory.keys import Principal
from tidings_server.errors import Conflict, NotFound, ValidationFailed
from tidings_server.mail.sending import MailSender, Outgoing
from tidings_server.store.models import MarketplaceRequest, Message
from tidings_server.store.repositories import Page, PageRequest
from tidings_server.store.repositories.usage import MarketplaceRepository, PricingRepository
from tidings_server.usage import headers
from tidings_server.usage.metering import Billing
from tidings_server.usage.pricing import Prices, capped
from tidings_server.usage.settlements import settle


class Marketplace:
    def __init__(
        self,
        sender: MailSender,
        principal: Principal,
        clock: Clock,
        *,
        currency: str,
        reservation: timedelta,
    ) -> None:
        self.sender = sender
        self.session = sender.session
        self.principal = principal
        self.clock = clock
        self.currency = currency
        self.reservation = reservation
        self.requests = MarketplaceRepository(self.session, principal.scope)

    async def request(
        self, address: str, outgoing: Outgoing, *, budget: int, request_id: str | None
    ) -> tuple[Message, MarketplaceRequest]:
        """Send a request to one seller, holding `budget` (nanos) until it is settled."""
        if len(outgoing.to) != 1 or outgoing.cc or outgoing.bcc:
            raise ValidationFailed(
                "A marketplace request goes to exactly one seller.",
                code="invalid_marketplace_recipients",
                param="to",
                fix="Put the seller's address alone in `to`, with no cc or bcc.",
            )
        mailbox = await self.sender.mailboxes.get(address)
        request_id = request_id or ids.new_id("mkt")
        if await self.requests.find(mailbox.identity_id, "buyer", request_id) is not None:
            raise Conflict(
                f"This mailbox already made the marketplace request {request_id!r}.",
                code="marketplace_request_exists",
                param="marketplace_request_id",
                fix="Use a new marketplace_request_id, or leave it out to have one made.",
            )
        now = self.clock.now()
        expires = now + self.reservation
        terms = [
            (headers.REQUEST_ID, request_id),
            (headers.BUDGET, headers.money(budget, self.currency)),
            (headers.EXPIRES, expires.isoformat()),
        ]
        billing = Billing(hold=budget, headers=terms, marketplace_request_id=request_id)
        message = await self.sender.send(address, replace(outgoing, billing=billing))
        seller = message.to[0]["address"].lower()
        if seller == mailbox.address:
            raise ValidationFailed(
                "A mailbox cannot buy from itself.",
                code="invalid_marketplace_recipients",
                param="to",
                fix="Send the request to another identity's address.",
            )
        row = MarketplaceRequest(
            id=ids.new_id("mkr"),
            org_id=mailbox.org_id,
            identity_id=mailbox.identity_id,
            api_key_id=self.principal.key_id,
            role="buyer",
            marketplace_request_id=request_id,
            counterparty=seller,
            message_id=message.id,
            rfc_message_id=message.rfc_message_id,
            reservation_key=message.reservation_key,
            correlation_id=message.correlation_id,
            currency=self.currency,
            budget=budget,
            status="held",
            expires_at=expires,
            created_at=now,
            updated_at=now,
        )
        self.requests.add(row)
        await self.session.flush()
        return message, row

    async def respond(
        self, address: str, request_id: str, outgoing: Outgoing
    ) -> tuple[Message, MarketplaceRequest]:
        """Answer a request this mailbox received, charging `outgoing.usage` at its prices."""
        mailbox = await self.sender.mailboxes.get(address)
        row = await self.requests.find(mailbox.identity_id, "seller", request_id)
        if row is None:
            raise NotFound(
                f"{address} has received no marketplace request {request_id!r}.",
                code="marketplace_request_not_found",
                param="marketplace_request_id",
                fix="Use the marketplace_request_id of a request this mailbox received "
                "(GET /v1/marketplace/requests?role=seller).",
            )
        now = self.clock.now()
        if row.status == "settled":
            raise Conflict(
                f"The marketplace request {request_id!r} was already answered and settled.",
                code="marketplace_request_settled",
                param="marketplace_request_id",
                fix="Each request is answered once; send further mail as an ordinary reply.",
            )
        if row.expires_at is not None and row.expires_at <= now:
            raise Conflict(
                f"The marketplace request {request_id!r} expired at {row.expires_at}.",
                code="marketplace_request_expired",
                param="marketplace_request_id",
                fix="The buyer's budget is released; ask the buyer to send a new request.",
            )
        if row.currency != self.currency:
            raise Conflict(
                f"The request's budget is in {row.currency}; this server prices in "
                f"{self.currency}.",
                code="marketplace_currency_mismatch",
                param="marketplace_request_id",
                fix="Answer with an ordinary reply; the request cannot be settled here.",
            )
        billing = Billing(
            kind="marketplace_earning",
            cap=row.budget,
            headers=[(headers.REQUEST_ID, request_id)],
            marketplace_request_id=request_id,
        )
        message = await self.sender.reply(
            address, row.message_id, replace(outgoing, billing=billing), to_all=False
        )
        plan = await PricingRepository(self.session, self.principal.scope).get(row.identity_id)
        lines = capped(Prices.of(plan).price(outgoing.usage), row.budget)
        await settle(self.session, mailbox, row, lines, response_message_id=message.id, now=now)
        return message, row

    async def list(
        self,
        request: PageRequest,
        *,
        role: str | None,
        status: str | None,
        marketplace_request_id: str | None,
    ) -> Page[MarketplaceRequest]:
        wanted = {
            MarketplaceRequest.role: role,
            MarketplaceRequest.status: status,
            MarketplaceRequest.marketplace_request_id: marketplace_request_id,
        }
        filters: list[sa.ColumnElement[bool]] = [
            column == value for column, value in wanted.items() if value is not None
        ]
        return await self.requests.page(request, *filters)
