"""The marketplace through identity objects: a buyer asks with a budget, the seller answers
with its usage, both sides settle (or the hold expires), and the typed events tell of it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer
from tidings import (
    AsyncTidings,
    ConflictError,
    MarketplaceExpiredEvent,
    MarketplaceMessage,
    MarketplaceRequest,
    MarketplaceRequestReceivedEvent,
    MarketplaceSettledEvent,
    NotFoundError,
    Tidings,
    Usage,
)
from tidings_server.clock import FakeClock

SELLER_PRICES = {"tokens_input_per_1k": "0.5", "tokens_output_per_1k": "2", "per_outcome": "0.25"}
WORK = Usage(tokens_input=1000, tokens_output=500, outcomes_returned=1)  # 0.5 + 1 + 0.25
T = TypeVar("T")


def test_a_request_is_held_answered_and_settled_with_identity_objects(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        buyer, seller = td.identities.create("buyer"), td.identities.create("seller")
        td.pricing_plans.update("seller", **SELLER_PRICES)
        sent = buyer.send_marketplace_request(
            to=seller.email_address, subject="Summarise this", body="The text.",
            budget=Decimal("5"), correlation_id="job-1", idempotency_key="ask-1",
        )  # fmt: skip
        request_id = sent.marketplace_request_id
        [opened] = wait_for(lambda: td.marketplace_requests.list(role="seller").data)
        [received] = td.events.list(types=["marketplace.request_received"]).data
        answer = seller.send_marketplace_response(
            marketplace_request_id=request_id, body_text="Here it is.", usage=WORK
        )
        with pytest.raises(ConflictError) as again:
            seller.send_marketplace_response(marketplace_request_id=request_id, body="Twice?")
        with pytest.raises(NotFoundError):
            seller.send_marketplace_response(marketplace_request_id="mkt_nope", body="?")

        def settled() -> MarketplaceRequest | None:
            [side] = td.marketplace_requests.list(role="buyer", marketplace_request_id=request_id)
            return side if side.status == "settled" else None

        bought = wait_for(settled)
        told = wait_for(
            lambda: td.events.list(types="marketplace.settled", mailbox=buyer.email_address).data
        )
        charges = list(
            td.usage.ledger.list(marketplace_request_id=request_id, kind="marketplace_charge")
        )
        spent = td.usage.summary(identity="buyer", period="total").totals
        earned = td.usage.summary(identity="seller", period="total").totals
    assert isinstance(sent, MarketplaceMessage)
    assert request_id.startswith("mkt_")
    assert sent.reservation_key == sent.marketplace_request.reservation_key
    assert sent.correlation_id == "job-1"
    assert (sent.marketplace_request.role, sent.marketplace_request.status) == ("buyer", "held")
    assert sent.marketplace_request.budget == Decimal(5)
    assert sent.body_text == "The text.\n"
    assert (opened.counterparty, opened.budget, opened.status) == (
        buyer.email_address,
        Decimal(5),
        "open",
    )

    assert isinstance(received, MarketplaceRequestReceivedEvent)
    assert received.data.marketplace_request == opened
    assert received.data.message.marketplace_request_id == request_id
    assert received.data.message.subject == "Summarise this"

    assert answer.marketplace_request.status == "settled"
    assert answer.marketplace_request.charged == Decimal("1.75")
    assert answer.usage == WORK
    assert answer.subject == "Re: Summarise this"
    assert again.value.code == "marketplace_request_settled"

    assert (bought.charged, bought.released) == (Decimal("1.75"), Decimal("3.25"))
    [settlement] = told
    assert isinstance(settlement, MarketplaceSettledEvent)
    assert settlement.data.marketplace_request.reservation_key == sent.reservation_key
    assert settlement.data.marketplace_request.released == Decimal("3.25")
    assert {line.unit: line.amount for line in settlement.data.lines} == {
        "tokens_input": Decimal("0.5"),
        "tokens_output": Decimal(1),
        "outcomes_returned": Decimal("0.25"),
    }
    assert {c.unit: c.amount for c in charges} == {
        line.unit: line.amount for line in settlement.data.lines
    }
    assert {(c.correlation_id, c.reservation_key) for c in charges} == {
        ("job-1", sent.reservation_key)
    }
    assert spent.spend == Decimal("1.75")
    assert earned.earnings == Decimal("1.75")


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 30) -> T:
    """Await `check` until it answers something truthy (delivery is asynchronous)."""
    for _ in range(int(timeout / 0.05)):
        if found := await check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_async_requests_settle_or_expire_and_events_say_which(
    timed: LiveServer, clock: FakeClock
) -> None:
    async with AsyncTidings(timed.root_key, base_url=timed.base_url) as td:
        buyer = await td.identities.create("buyer")
        seller = await td.identities.create("seller")
        await td.pricing_plans.update("seller", per_outcome="0.4")
        answered = await buyer.send_marketplace_request(
            to=seller.email_address, subject="Job", body_text="One", budget="1",
            marketplace_request_id="job-77",
        )  # fmt: skip
        ignored = await td.marketplace_requests.send(
            buyer.email_address, to=seller.email_address, subject="Other", budget=2
        )

        async def opened() -> list[MarketplaceRequest]:
            page = await td.marketplace_requests.list(role="seller", status="open")
            return page.data if len(page.data) == 2 else []

        await eventually(opened)
        answer = await seller.send_marketplace_response(
            marketplace_request_id="job-77", body="Done", usage={"outcomes_returned": 3}
        )

        async def settled() -> list[MarketplaceSettledEvent]:
            page = await td.events.list(types="marketplace.settled")
            found = [e for e in page.data if isinstance(e, MarketplaceSettledEvent)]
            return found if len(found) == 2 else []

        # The seller's side settles at once, the buyer's when the answer arrives.
        [seller_side, buyer_side] = await eventually(settled)
        clock.advance(601)  # the other request's hold runs out

        async def expired() -> list[MarketplaceExpiredEvent]:
            page = await td.events.list(types=["marketplace.expired"])
            return [e for e in page.data if isinstance(e, MarketplaceExpiredEvent)]

        [expiry] = await eventually(expired)
        with pytest.raises(ConflictError) as too_late:
            await td.marketplace_requests.respond(
                seller.email_address,
                ignored.marketplace_request_id,
                body_text="Late",
            )
    assert answered.marketplace_request_id == "job-77"
    assert answer.marketplace_request.charged == Decimal("1")  # 3 x 0.4 = 1.2, capped
    assert expiry.data.marketplace_request.marketplace_request_id == ignored.marketplace_request_id
    assert expiry.data.marketplace_request.status == "expired"
    assert expiry.data.marketplace_request.released == Decimal(2)
    assert too_late.value.code == "marketplace_request_expired"
    assert seller_side.data.marketplace_request.role == "seller"
    bought = buyer_side.data.marketplace_request
    assert (bought.role, bought.charged, bought.released) == ("buyer", Decimal(1), Decimal(0))
