"""`td.quotas`: limits on an identity's or an API key's sends, recipients and spend.

Name the subject with `identity=` (handle or id) or `api_key=` (a key id). Limits are set
whole: `update` replaces all four (one left out is no limit); setting needs a root key, and
an agent key may read its own identity's and its own key's.
"""

from __future__ import annotations

from typing import TypedDict, Unpack

from tidings._amounts import AmountInput
from tidings._bodies import QuotaBody
from tidings._endpoints import Api, Request
from tidings._raw import araw, raw
from tidings._usage import Quotas
from tidings.resources._shared import AsyncResource, SyncResource

__all__ = ["AsyncQuotaLimits", "Limits", "QuotaLimits"]


class Limits(TypedDict, total=False):
    """Each limit, or None for none. Windows are the current UTC minute or day."""

    sends_per_minute: int | None
    sends_per_day: int | None
    recipients_per_day: int | None  # distinct recipients (to, cc, bcc) today
    spend_per_day: AmountInput | None  # own usage and marketplace charges, plus held budgets


def _request(identity: str | None, api_key: str | None, limits: Limits | None = None) -> Request:
    if (identity is None) == (api_key is None):
        raise TypeError("name the quotas' subject: exactly one of identity= or api_key=")
    body = None if limits is None else QuotaBody.given(**limits)
    if identity is not None:
        api = Api.GET_IDENTITY_QUOTAS if limits is None else Api.UPDATE_IDENTITY_QUOTAS
        return api.request(handle=identity, body=body)
    assert api_key is not None
    api = Api.GET_KEY_QUOTAS if limits is None else Api.UPDATE_KEY_QUOTAS
    return api.request(key_id=api_key, body=body)


class QuotaLimits(SyncResource):
    def get(self, *, identity: str | None = None, api_key: str | None = None) -> Quotas:
        """Each limit with what is used of it in its current window, and when that resets."""
        return self._one(_request(identity, api_key), Quotas)

    def update(
        self,
        *,
        identity: str | None = None,
        api_key: str | None = None,
        **limits: Unpack[Limits],
    ) -> Quotas:
        """Replace the subject's limits with these; the answer shows them in use."""
        return self._one(_request(identity, api_key, limits), Quotas)


class AsyncQuotaLimits(AsyncResource):
    async def get(self, *, identity: str | None = None, api_key: str | None = None) -> Quotas:
        return await self._one(_request(identity, api_key), Quotas)

    async def update(
        self,
        *,
        identity: str | None = None,
        api_key: str | None = None,
        **limits: Unpack[Limits],
    ) -> Quotas:
        return await self._one(_request(identity, api_key, limits), Quotas)


class QuotaLimitsWithRawResponse:
    def __init__(self, quotas: QuotaLimits) -> None:
        self.get = raw(quotas.get)
        self.update = raw(quotas.update)


class AsyncQuotaLimitsWithRawResponse:
    def __init__(self, quotas: AsyncQuotaLimits) -> None:
        self.get = araw(quotas.get)
        self.update = araw(quotas.update)
