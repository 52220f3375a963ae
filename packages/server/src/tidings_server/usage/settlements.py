"""Closing a marketplace request on one side: mark it settled and tell its owner.

Both sides settle this way: the seller when it answers, the buyer when the answer arrives.
The ledger entries are booked by the caller (a send's metering, or the buyer's receipt).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.api.schemas.usage import MarketplaceRequestView
from tidings_server.events import append_event
from tidings_server.store.models import Mailbox, MarketplaceRequest
from tidings_server.usage.pricing import UsageLine, total


def request_data(row: MarketplaceRequest) -> dict[str, Any]:
    return MarketplaceRequestView.of(row).model_dump(mode="json")


async def settle(
    session: AsyncSession,
    mailbox: Mailbox,
    row: MarketplaceRequest,
    lines: Sequence[UsageLine],
    *,
    response_message_id: str,
    now: datetime,
) -> None:
    row.status = "settled"
    row.charged = total(list(lines))
    row.settled_at = now
    row.updated_at = now
    row.response_message_id = response_message_id
    await session.flush()
    await append_event(
        session,
        org_id=row.org_id,
        identity_id=row.identity_id,
        mailbox_id=mailbox.id,
        type_="marketplace.settled",
        data={
            "marketplace_request": request_data(row),
            "lines": [line.to_json() for line in lines],
        },
        now=now,
    )
