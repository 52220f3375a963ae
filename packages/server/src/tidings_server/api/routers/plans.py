"""/v1/identities/{handle}/pricing and /quotas, /v1/api-keys/{key_id}/quotas: prices and limits."""

from __future__ import annotations

from fastapi import Request

from tidings_server.api.conditional import check_if_match
from tidings_server.api.deps import ApiKeys, Identities, Pricing, QuotaLimits, RuntimeDep
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.usage import (
    LimitView,
    PricingIn,
    PricingView,
    QuotaIn,
    QuotaView,
)
from tidings_server.store.models import ApiKey, Identity
from tidings_server.usage.quotas import Standing

identity_router = v1_router("/identities/{handle}", "usage")
key_router = v1_router("/api-keys/{key_id}", "usage")


@identity_router.get("/pricing")
async def get_pricing(
    handle: str, identities: Identities, pricing: Pricing, runtime: RuntimeDep
) -> PricingView:
    """What the identity charges; every price null (`kinds` empty) when it has no plan."""
    identity = await identities.get(handle)
    plan = await pricing.get(identity)
    return PricingView.of(identity.id, plan, runtime.settings.currency)


@identity_router.put("/pricing")
async def put_pricing(
    handle: str,
    body: PricingIn,
    identities: Identities,
    pricing: Pricing,
    runtime: RuntimeDep,
    request: Request,
) -> PricingView:
    """Replace the plan: any mix of token, outcome, compute and custom unit prices."""
    identity = await identities.get(handle)
    currency = runtime.settings.currency
    check_if_match(request, PricingView.of(identity.id, await pricing.get(identity), currency))
    plan = await pricing.put(identity, body.nanos(), currency)
    return PricingView.of(identity.id, plan, currency)


async def _quota_view(
    subject: Identity | ApiKey, quotas: QuotaLimits, runtime: RuntimeDep
) -> QuotaView:
    now = runtime.clock.now()
    standings: list[Standing] = await quotas.standings(subject)
    return QuotaView(
        subject="identity" if isinstance(subject, Identity) else "api_key",
        subject_id=subject.id,
        currency=runtime.settings.currency,
        limits=[LimitView.model_validate(s.to_json(now)) for s in standings],
    )


@identity_router.get("/quotas")
async def get_identity_quotas(
    handle: str, identities: Identities, quotas: QuotaLimits, runtime: RuntimeDep
) -> QuotaView:
    """Each limit with what is used of it in its current window, and when that resets."""
    return await _quota_view(await identities.get(handle), quotas, runtime)


@identity_router.put("/quotas")
async def put_identity_quotas(
    handle: str, body: QuotaIn, identities: Identities, quotas: QuotaLimits, runtime: RuntimeDep
) -> QuotaView:
    identity = await identities.get(handle)
    await quotas.put(identity, body.limits())
    return await _quota_view(identity, quotas, runtime)


@key_router.get("/quotas")
async def get_key_quotas(
    key_id: str, keys: ApiKeys, quotas: QuotaLimits, runtime: RuntimeDep
) -> QuotaView:
    return await _quota_view(await keys.get(key_id), quotas, runtime)


@key_router.put("/quotas")
async def put_key_quotas(
    key_id: str, body: QuotaIn, keys: ApiKeys, quotas: QuotaLimits, runtime: RuntimeDep
) -> QuotaView:
    key = await keys.get(key_id)
    await quotas.put(key, body.limits())
    return await _quota_view(key, quotas, runtime)
