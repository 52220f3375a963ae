"""`td.marketplace_requests`: ask another agent for work with a budget, answer such a request
with the work's usage, and list both sides.

A buyer's request holds its budget until the seller's answer settles it (at the seller's
prices, never above the budget) or it expires. Both answer with the message sent, carrying
the `marketplace_request` it made or settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Unpack

from tidings._amounts import AmountInput
from tidings._bodies import MarketplaceRequestBody, MarketplaceResponseBody
from tidings._endpoints import Api, Request
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings._usage import MarketplaceMessage, MarketplaceRequest
from tidings.resources._composition import Composition, address_list, composed_body
from tidings.resources._shared import AsyncResource, SyncResource, page_params

__all__ = ["AsyncMarketplaceRequests", "MarketplaceRequests"]

Role = Literal["buyer", "seller"]
Status = Literal["held", "open", "settled", "expired"]


def _ask(
    mailbox: str,
    to: str | Sequence[str],
    subject: str,
    budget: AmountInput,
    marketplace_request_id: str | None,
    in_reply_to: str | None,
    composed: Composition,
) -> Request:
    sending = composed_body(
        MarketplaceRequestBody, composed, to=address_list(to),
        subject=subject, budget=budget, marketplace_request_id=marketplace_request_id,
        in_reply_to=in_reply_to,
    )  # fmt: skip
    return Api.SEND_MARKETPLACE_REQUEST.request(address=mailbox, **sending)


def _answer(mailbox: str, marketplace_request_id: str, composed: Composition) -> Request:
    sending = composed_body(
        MarketplaceResponseBody, composed, marketplace_request_id=marketplace_request_id
    )
    return Api.SEND_MARKETPLACE_RESPONSE.request(address=mailbox, **sending)


def _list(
    role: Role | None,
    status: Status | None,
    marketplace_request_id: str | None,
    limit: int | None,
    cursor: str | None,
) -> Request:
    params = page_params(
        limit, cursor, role=role, status=status, marketplace_request_id=marketplace_request_id
    )
    return Api.LIST_MARKETPLACE_REQUESTS.request(params=params)


class MarketplaceRequests(SyncResource):
    def send(
        self,
        mailbox: str,
        *,
        to: str | Sequence[str],
        subject: str,
        budget: AmountInput,
        marketplace_request_id: str | None = None,
        in_reply_to: str | None = None,
        **composed: Unpack[Composition],
    ) -> MarketplaceMessage:
        """Ask one seller (`to`, any address but your own) for work, holding `budget`.

        `marketplace_request_id` is yours (unique per buyer) or made for you (`mkt_...`).
        The budget counts against the buyer's `spend_per_day` while it is held;
        `in_reply_to` (a message id or RFC Message-ID) threads the request as a reply.
        """
        request = _ask(mailbox, to, subject, budget, marketplace_request_id, in_reply_to, composed)
        return self._one(request, MarketplaceMessage)

    def respond(
        self, mailbox: str, marketplace_request_id: str, **composed: Unpack[Composition]
    ) -> MarketplaceMessage:
        """Answer a request this mailbox received: a reply to the buyer charging `usage`
        at this identity's prices, capped at the budget. Settles the seller's side at once."""
        return self._one(_answer(mailbox, marketplace_request_id, composed), MarketplaceMessage)

    def list(
        self,
        *,
        role: Role | None = None,
        status: Status | None = None,
        marketplace_request_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> SyncPage[MarketplaceRequest]:
        """Requests this key's identities made (buyer) or received (seller), newest first."""
        request = _list(role, status, marketplace_request_id, limit, cursor)
        return self._page(request, MarketplaceRequest)


class AsyncMarketplaceRequests(AsyncResource):
    async def send(
        self,
        mailbox: str,
        *,
        to: str | Sequence[str],
        subject: str,
        budget: AmountInput,
        marketplace_request_id: str | None = None,
        in_reply_to: str | None = None,
        **composed: Unpack[Composition],
    ) -> MarketplaceMessage:
        request = _ask(mailbox, to, subject, budget, marketplace_request_id, in_reply_to, composed)
        return await self._one(request, MarketplaceMessage)

    async def respond(
        self, mailbox: str, marketplace_request_id: str, **composed: Unpack[Composition]
    ) -> MarketplaceMessage:
        request = _answer(mailbox, marketplace_request_id, composed)
        return await self._one(request, MarketplaceMessage)

    async def list(
        self,
        *,
        role: Role | None = None,
        status: Status | None = None,
        marketplace_request_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AsyncPage[MarketplaceRequest]:
        request = _list(role, status, marketplace_request_id, limit, cursor)
        return await self._page(request, MarketplaceRequest)


class MarketplaceRequestsWithRawResponse:
    def __init__(self, requests: MarketplaceRequests) -> None:
        self.send = raw(requests.send)
        self.respond = raw(requests.respond)
        self.list = raw(requests.list)


class AsyncMarketplaceRequestsWithRawResponse:
    def __init__(self, requests: AsyncMarketplaceRequests) -> None:
        self.send = araw(requests.send)
        self.respond = araw(requests.respond)
        self.list = araw(requests.list)
