"""`td.pricing_plans`: what an identity's work costs, by handle or id (setting needs a root key).

A plan is set whole: `update` replaces it (a price left out is no longer charged for), and
`update(identity)` with no prices removes it. Prices are exact decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict, Unpack, overload

from tidings._amounts import AmountInput
from tidings._bodies import PricingBody
from tidings._endpoints import Api, Request
from tidings._models import NotModified
from tidings._raw import araw, raw
from tidings._usage import PricingPlan
from tidings.resources._shared import AsyncResource, SyncResource, conditional

__all__ = ["AsyncPricingPlans", "Prices", "PricingPlans"]


class Prices(TypedDict, total=False):
    """A plan's prices in the server's currency: Decimal, str or int (never float)."""

    tokens_input_per_1k: AmountInput | None
    tokens_output_per_1k: AmountInput | None
    per_outcome: AmountInput | None
    compute_per_second: AmountInput | None
    custom_units: Mapping[str, AmountInput] | None  # your unit name -> price per unit


def _get(identity: str, if_none_match: str | None) -> Request:
    return Api.GET_PRICING.request(
        handle=identity, headers=conditional(if_none_match=if_none_match)
    )


def _update(identity: str, if_match: str | None, prices: Prices) -> Request:
    return Api.UPDATE_PRICING.request(
        handle=identity, body=PricingBody.given(**prices), headers=conditional(if_match=if_match)
    )


class PricingPlans(SyncResource):
    @overload
    def get(self, identity: str) -> PricingPlan: ...
    @overload
    def get(self, identity: str, *, if_none_match: str | None) -> PricingPlan | NotModified: ...
    def get(self, identity: str, *, if_none_match: str | None = None) -> PricingPlan | NotModified:
        """The identity's plan; every price None (`kinds` empty) when it has none."""
        return self._maybe(_get(identity, if_none_match), PricingPlan)

    def update(
        self, identity: str, *, if_match: str | None = None, **prices: Unpack[Prices]
    ) -> PricingPlan:
        """Replace the identity's plan with these prices (any mix of kinds). With
        `if_match=` only if the plan is still the one with that ETag."""
        return self._one(_update(identity, if_match, prices), PricingPlan)


class AsyncPricingPlans(AsyncResource):
    @overload
    async def get(self, identity: str) -> PricingPlan: ...
    @overload
    async def get(
        self, identity: str, *, if_none_match: str | None
    ) -> PricingPlan | NotModified: ...
    async def get(
        self, identity: str, *, if_none_match: str | None = None
    ) -> PricingPlan | NotModified:
        return await self._maybe(_get(identity, if_none_match), PricingPlan)

    async def update(
        self, identity: str, *, if_match: str | None = None, **prices: Unpack[Prices]
    ) -> PricingPlan:
        return await self._one(_update(identity, if_match, prices), PricingPlan)


class PricingPlansWithRawResponse:
    def __init__(self, plans: PricingPlans) -> None:
        self.get = raw(plans.get)
        self.update = raw(plans.update)


class AsyncPricingPlansWithRawResponse:
    def __init__(self, plans: AsyncPricingPlans) -> None:
        self.get = araw(plans.get)
        self.update = araw(plans.update)
