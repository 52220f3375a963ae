"""/v1/mailboxes/{address}/marketplace: buyers' requests and sellers' answers; /v1/marketplace."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Response

from tidings_server.api.deps import MarketplaceDep, Readers, RequestIdempotencyKey
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.routers import v1_router
from tidings_server.api.routers.messages import SEND_EXTRA, outgoing_of, queued
from tidings_server.api.schemas.marketplace import (
    MarketplaceMessageView,
    MarketplaceRequestIn,
    MarketplaceResponseIn,
)
from tidings_server.api.schemas.usage import MarketplaceRequestView
from tidings_server.store.models import MarketplaceRequest, Message
from tidings_server.usage.amounts import to_nanos

mailbox_router = v1_router("/mailboxes/{address}/marketplace", "marketplace")
router = v1_router("/marketplace", "marketplace")


async def _answer(
    address: str,
    sent: tuple[Message, MarketplaceRequest],
    readers: Readers,
    response: Response,
) -> MarketplaceMessageView:
    message, row = sent
    view = await queued(address, message, readers, response)
    return MarketplaceMessageView(
        **view.model_dump(), marketplace_request=MarketplaceRequestView.of(row)
    )


@mailbox_router.post("/requests", status_code=202, openapi_extra=SEND_EXTRA)
async def send_marketplace_request(
    address: str,
    body: MarketplaceRequestIn,
    marketplace: MarketplaceDep,
    readers: Readers,
    response: Response,
    key: RequestIdempotencyKey,
) -> MarketplaceMessageView:
    """Ask one seller for work, holding `budget` until its answer settles it (or it expires)."""
    outgoing = outgoing_of(
        body, key, to=body.to, subject=body.subject, in_reply_to=body.in_reply_to
    )
    sent = await marketplace.request(
        address,
        outgoing,
        budget=to_nanos(body.budget),
        request_id=body.marketplace_request_id,
    )
    return await _answer(address, sent, readers, response)


@mailbox_router.post("/responses", status_code=202, openapi_extra=SEND_EXTRA)
async def send_marketplace_response(
    address: str,
    body: MarketplaceResponseIn,
    marketplace: MarketplaceDep,
    readers: Readers,
    response: Response,
    key: RequestIdempotencyKey,
) -> MarketplaceMessageView:
    """Answer a received request: charges `usage` at your prices, capped at the budget."""
    outgoing = outgoing_of(body, key, to=())
    sent = await marketplace.respond(address, body.marketplace_request_id, outgoing)
    return await _answer(address, sent, readers, response)


@router.get("/requests")
async def list_marketplace_requests(
    marketplace: MarketplaceDep,
    paging: Paging,
    role: Literal["buyer", "seller"] | None = None,
    status: Literal["held", "open", "settled", "expired"] | None = None,
    marketplace_request_id: Annotated[str | None, Query(max_length=200)] = None,
) -> ListResponse[MarketplaceRequestView]:
    """Requests this key's identities made (buyer) or received (seller), newest first."""
    page = await marketplace.list(
        paging.request, role=role, status=status, marketplace_request_id=marketplace_request_id
    )
    return paging.respond(page, MarketplaceRequestView.of)
