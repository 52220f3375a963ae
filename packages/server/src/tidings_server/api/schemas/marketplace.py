"""Marketplace requests and answers as the API takes and shows them."""

from __future__ import annotations

from pydantic import Field

from tidings_server.api.schemas.messages import ComposedRequest, MessageView, SendRequest
from tidings_server.api.schemas.usage import ExactDecimal, MarketplaceRequestView, RequestId


class MarketplaceRequestIn(SendRequest):
    budget: ExactDecimal = Field(
        description="The most you will pay (server currency); held until settled or expired."
    )
    marketplace_request_id: RequestId | None = Field(
        default=None, description="Your id for the request; one is made (mkt_...) if left out."
    )


class MarketplaceResponseIn(ComposedRequest):
    """The seller's answer: a reply to the request, charging `usage` at the seller's prices."""

    marketplace_request_id: RequestId


class MarketplaceMessageView(MessageView):
    """The message sent, with the marketplace request it made or settled."""

    marketplace_request: MarketplaceRequestView
