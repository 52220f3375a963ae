"""`Tidings` and `AsyncTidings`: the clients, with the same surface, sharing one core."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx2

from tidings._base_client import AsyncAPIClient, SyncAPIClient
from tidings._config import resolve
from tidings._endpoints import Api
from tidings._models import SessionInfo
from tidings._raw import araw, raw
from tidings._retry import RetryOptions
from tidings.resources._shared import parse_one
from tidings.resources.api_keys import (
    ApiKeys,
    ApiKeysWithRawResponse,
    AsyncApiKeys,
    AsyncApiKeysWithRawResponse,
)
from tidings.resources.events import (
    AsyncEvents,
    AsyncEventsWithRawResponse,
    Events,
    EventsWithRawResponse,
)
from tidings.resources.identities import (
    AsyncIdentities,
    AsyncIdentitiesWithRawResponse,
    Identities,
    IdentitiesWithRawResponse,
)
from tidings.resources.mailboxes import (
    AsyncMailboxes,
    AsyncMailboxesWithRawResponse,
    Mailboxes,
    MailboxesWithRawResponse,
)
from tidings.resources.marketplace import (
    AsyncMarketplaceRequests,
    AsyncMarketplaceRequestsWithRawResponse,
    MarketplaceRequests,
    MarketplaceRequestsWithRawResponse,
)
from tidings.resources.messages import (
    AsyncMessages,
    AsyncMessagesWithRawResponse,
    Messages,
    MessagesWithRawResponse,
)
from tidings.resources.pricing_plans import (
    AsyncPricingPlans,
    AsyncPricingPlansWithRawResponse,
    PricingPlans,
    PricingPlansWithRawResponse,
)
from tidings.resources.quotas import (
    AsyncQuotaLimits,
    AsyncQuotaLimitsWithRawResponse,
    QuotaLimits,
    QuotaLimitsWithRawResponse,
)
from tidings.resources.threads import (
    AsyncThreads,
    AsyncThreadsWithRawResponse,
    Threads,
    ThreadsWithRawResponse,
)
from tidings.resources.usage import (
    AsyncUsageReports,
    AsyncUsageReportsWithRawResponse,
    UsageReports,
    UsageReportsWithRawResponse,
)
from tidings.resources.webhooks import (
    AsyncWebhooks,
    AsyncWebhooksWithRawResponse,
    Webhooks,
    WebhooksWithRawResponse,
)

__all__ = ["AsyncTidings", "Tidings"]

C = TypeVar("C", SyncAPIClient, AsyncAPIClient)


def _debug_logger() -> logging.Logger:
    """TIDINGS_DEBUG=1: the `tidings` logger at DEBUG, to stderr unless already handled."""
    logger = logging.getLogger("tidings")
    logger.setLevel(logging.DEBUG)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("tidings: %(message)s"))
        logger.addHandler(handler)
    return logger


def _options(
    api_key: str | None,
    base_url: str | None,
    timeout: float | None,
    max_retries: int | None,
    retry: RetryOptions | None,
    default_headers: Mapping[str, str] | None,
    logger: logging.Logger | None,
) -> dict[str, Any]:
    settings = resolve(api_key, base_url)
    return {
        "api_key": settings.api_key,
        "base_url": settings.base_url,
        "timeout": timeout,
        "retry": _policy(RetryOptions(), retry, max_retries),
        "default_headers": default_headers,
        "logger": logger or (_debug_logger() if settings.debug else None),
    }


def _policy(
    current: RetryOptions, retry: RetryOptions | None, max_retries: int | None
) -> RetryOptions:
    policy = retry or current
    return policy if max_retries is None else replace(policy, attempts=max_retries + 1)


class _Shared(Generic[C]):
    """What both clients have alike, over their own kind of API client."""

    _client: C

    def _mount(self, client: C) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return self._client.base_url

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryOptions | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> Self:
        """A client like this one with some options changed, for a call or a few:
        `td.with_options(max_retries=0).messages.send(...)`. It shares this client's
        connections, so it needs no closing and works while this one is open."""
        twin = object.__new__(type(self))
        policy = _policy(self._client.retry, retry, max_retries)
        twin._mount(
            self._client.derive(timeout=timeout, retry=policy, default_headers=default_headers)
        )
        return twin


class Tidings(_Shared[SyncAPIClient]):
    """The synchronous client. Settings: arguments, then TIDINGS_API_KEY / TIDINGS_BASE_URL,
    then ~/.config/tidings/config.toml.

    `timeout` is in seconds (default 30, or your `http_client`'s own); `max_retries` or a
    whole `retry=RetryOptions(...)` policy; `default_headers` go with every request;
    `logger` receives a DEBUG line per attempt (TIDINGS_DEBUG=1: to stderr), never a key.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryOptions | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx2.Client | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        options = _options(api_key, base_url, timeout, max_retries, retry, default_headers, logger)
        self._mount(SyncAPIClient(http_client=http_client, **options))

    def _mount(self, client: SyncAPIClient) -> None:
        self._client = client
        self.identities = Identities(client)
        self.mailboxes = Mailboxes(client)
        self.messages = Messages(client)
        self.threads = Threads(client)
        self.api_keys = ApiKeys(client)
        self.events = Events(client)
        self.webhooks = Webhooks(client)
        self.usage = UsageReports(client)
        self.pricing_plans = PricingPlans(client)
        self.quotas = QuotaLimits(client)
        self.marketplace_requests = MarketplaceRequests(client)

    @property
    def with_raw_response(self) -> TidingsWithRawResponse:
        """The same calls, each answering a `RawResponse` (status, headers, `.parse()`)."""
        return TidingsWithRawResponse(self)

    def whoami(self) -> SessionInfo:
        """Who this key is: organisation, key, identity, scopes, limits and features."""
        request = Api.GET_SESSION.request()
        return parse_one(request, self._client.request(request), SessionInfo)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTidings(_Shared[AsyncAPIClient]):
    """The asynchronous client; the same surface as `Tidings`, with `await`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryOptions | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx2.AsyncClient | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        options = _options(api_key, base_url, timeout, max_retries, retry, default_headers, logger)
        self._mount(AsyncAPIClient(http_client=http_client, **options))

    def _mount(self, client: AsyncAPIClient) -> None:
        self._client = client
        self.identities = AsyncIdentities(client)
        self.mailboxes = AsyncMailboxes(client)
        self.messages = AsyncMessages(client)
        self.threads = AsyncThreads(client)
        self.api_keys = AsyncApiKeys(client)
        self.events = AsyncEvents(client)
        self.webhooks = AsyncWebhooks(client)
        self.usage = AsyncUsageReports(client)
        self.pricing_plans = AsyncPricingPlans(client)
        self.quotas = AsyncQuotaLimits(client)
        self.marketplace_requests = AsyncMarketplaceRequests(client)

    @property
    def with_raw_response(self) -> AsyncTidingsWithRawResponse:
        return AsyncTidingsWithRawResponse(self)

    async def whoami(self) -> SessionInfo:
        request = Api.GET_SESSION.request()
        return parse_one(request, await self._client.request(request), SessionInfo)

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class TidingsWithRawResponse:
    def __init__(self, td: Tidings) -> None:
        self.identities = IdentitiesWithRawResponse(td.identities)
        self.mailboxes = MailboxesWithRawResponse(td.mailboxes)
        self.messages = MessagesWithRawResponse(td.messages)
        self.threads = ThreadsWithRawResponse(td.threads)
        self.api_keys = ApiKeysWithRawResponse(td.api_keys)
        self.events = EventsWithRawResponse(td.events)
        self.webhooks = WebhooksWithRawResponse(td.webhooks)
        self.usage = UsageReportsWithRawResponse(td.usage)
        self.pricing_plans = PricingPlansWithRawResponse(td.pricing_plans)
        self.quotas = QuotaLimitsWithRawResponse(td.quotas)
        self.marketplace_requests = MarketplaceRequestsWithRawResponse(td.marketplace_requests)
        self.whoami = raw(td.whoami)


class AsyncTidingsWithRawResponse:
    def __init__(self, td: AsyncTidings) -> None:
        self.identities = AsyncIdentitiesWithRawResponse(td.identities)
        self.mailboxes = AsyncMailboxesWithRawResponse(td.mailboxes)
        self.messages = AsyncMessagesWithRawResponse(td.messages)
        self.threads = AsyncThreadsWithRawResponse(td.threads)
        self.api_keys = AsyncApiKeysWithRawResponse(td.api_keys)
        self.events = AsyncEventsWithRawResponse(td.events)
        self.webhooks = AsyncWebhooksWithRawResponse(td.webhooks)
        self.usage = AsyncUsageReportsWithRawResponse(td.usage)
        self.pricing_plans = AsyncPricingPlansWithRawResponse(td.pricing_plans)
        self.quotas = AsyncQuotaLimitsWithRawResponse(td.quotas)
        self.marketplace_requests = AsyncMarketplaceRequestsWithRawResponse(td.marketplace_requests)
        self.whoami = araw(td.whoami)
