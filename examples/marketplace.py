"""A marketplace round trip: a buyer agent asks a seller agent for work with a budget, the
seller answers with the usage behind its answer, and the buyer is charged at the seller's
prices, never more than the budget.

    TIDINGS_API_KEY=td_root_... python examples/marketplace.py [--budget 2.50]

Both agents live on this server here; the seller could as well be on another Tidings, or
anywhere that answers by email with the marketplace headers. The key comes from
TIDINGS_API_KEY and the server from TIDINGS_BASE_URL (default http://127.0.0.1:7700).
"""

from __future__ import annotations

import argparse
from decimal import Decimal

from tidings import (
    BoundIdentity,
    MarketplaceRequestReceivedEvent,
    MarketplaceSettledEvent,
    NotFoundError,
    Tidings,
    Usage,
)


def identity(td: Tidings, handle: str) -> BoundIdentity:
    try:
        return td.identities.get(handle)
    except NotFoundError:
        return td.identities.create(handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", default="2.50", help="the most the buyer will pay")
    args = parser.parse_args()

    with Tidings() as td:
        buyer, seller = identity(td, "buyer-bot"), identity(td, "summariser")
        plan = td.pricing_plans.update(
            seller.handle, tokens_input_per_1k="0.5", tokens_output_per_1k="1.5",
            per_outcome="0.25",
        )  # fmt: skip
        print(
            f"{seller.handle} charges {plan.tokens_input_per_1k} / {plan.tokens_output_per_1k} "
            f"per 1k tokens in / out and {plan.per_outcome} per outcome ({plan.currency})"
        )
        # Connected before asking, so neither the request's arrival nor its settlement is missed.
        with td.events.stream(
            types=["marketplace.request_received", "marketplace.settled"]
        ) as events:
            sent = buyer.send_marketplace_request(
                to=seller.email_address, subject="Summarise the Q3 report",
                body="Three sentences, please.", budget=Decimal(args.budget),
                correlation_id="q3-summary",
            )  # fmt: skip
            asked = sent.marketplace_request
            print(f"{buyer.handle} asked {seller.handle}: {asked.marketplace_request_id}, "
                  f"{asked.budget} {asked.currency} held")  # fmt: skip
            for event in events:
                if isinstance(event, MarketplaceRequestReceivedEvent):  # the seller's side
                    request = event.data.marketplace_request
                    print(f"{seller.handle} got {request.marketplace_request_id} "
                          f"from {request.counterparty}")  # fmt: skip
                    answer = seller.send_marketplace_response(
                        marketplace_request_id=request.marketplace_request_id,
                        body="Revenue rose 12 %. Costs held. The outlook is steady.",
                        usage=Usage(tokens_input=1800, tokens_output=220, outcomes_returned=1),
                    )
                    print(f"{seller.handle} answered, charging "
                          f"{answer.marketplace_request.charged} {request.currency}")  # fmt: skip
                elif (
                    isinstance(event, MarketplaceSettledEvent)
                    and event.data.marketplace_request.role == "buyer"
                ):
                    settled = event.data.marketplace_request
                    print(f"{buyer.handle} settled: charged {settled.charged}, released "
                          f"{settled.released} {settled.currency}")  # fmt: skip
                    break
        print("ledger (newest first):")
        handles = {buyer.id: buyer.handle, seller.id: seller.handle}
        for entry in td.usage.ledger.list(marketplace_request_id=asked.marketplace_request_id):
            who = handles.get(entry.identity_id or "", "")
            print(f"  {who:<10} {entry.kind:<20} {entry.unit:<18} "
                  f"{entry.quantity:>6} {entry.amount:>6}")  # fmt: skip


if __name__ == "__main__":
    main()
