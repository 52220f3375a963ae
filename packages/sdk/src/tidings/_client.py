"""`Tidings` and `AsyncTidings`: the clients, with the same surface, sharing one core."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType

import httpx2

from tidings._base_client import AsyncAPIClient, Request, SyncAPIClient
from tidings._config import resolve
from tidings._models import SessionInfo
from tidings._retry import RetryOptions
from tidings.resources.api_keys import ApiKeys, AsyncApiKeys
from tidings.resources.events import AsyncEvents, Events
from tidings.resources.identities import AsyncIdentities, Identities
from tidings.resources.mailboxes import AsyncMailboxes, Mailboxes
from tidings.resources.messages import AsyncMessages, Messages
from tidings.resources.threads import AsyncThreads, Threads
from tidings.resources.webhooks import AsyncWebhooks, Webhooks

__all__ = ["AsyncTidings", "Tidings"]

DEFAULT_TIMEOUT = 30.0


def _options(
    api_key: str | None,
    base_url: str | None,
    timeout: float,
    max_retries: int | None,
    retry: RetryOptions | None,
    default_headers: Mapping[str, str] | None,
) -> dict[str, object]:
    settings = resolve(api_key, base_url)
    policy = retry or RetryOptions()
    if max_retries is not None:
        policy = RetryOptions(
            attempts=max_retries + 1,
            initial_delay=policy.initial_delay,
            max_delay=policy.max_delay,
            multiplier=policy.multiplier,
            sleep=policy.sleep,
        )
    if settings.debug:
        logging.getLogger("tidings").setLevel(logging.DEBUG)
    return {
        "api_key": settings.api_key,
        "base_url": settings.base_url,
        "timeout": timeout,
        "retry": policy,
        "default_headers": default_headers,
        "debug": settings.debug,
    }


class Tidings:
    """The synchronous client. Settings: arguments, then TIDINGS_API_KEY / TIDINGS_BASE_URL,
    then ~/.config/tidings/config.toml."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryOptions | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx2.Client | None = None,
    ) -> None:
        options = _options(api_key, base_url, timeout, max_retries, retry, default_headers)
        self._client = SyncAPIClient(http_client=http_client, **options)
        self.identities = Identities(self._client)
        self.mailboxes = Mailboxes(self._client)
        self.messages = Messages(self._client)
        self.threads = Threads(self._client)
        self.api_keys = ApiKeys(self._client)
        self.events = Events(self._client)
        self.webhooks = Webhooks(self._client)

    @property
    def base_url(self) -> str:
        return self._client.base_url

    def whoami(self) -> SessionInfo:
        """Who this key is: organisation, key, identity, scopes, limits and features."""
        return SessionInfo.model_validate(self._client.request(Request("GET", "/v1/session")))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Tidings:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTidings:
    """The asynchronous client; the same surface as `Tidings`, with `await`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryOptions | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        options = _options(api_key, base_url, timeout, max_retries, retry, default_headers)
        self._client = AsyncAPIClient(http_client=http_client, **options)
        self.identities = AsyncIdentities(self._client)
        self.mailboxes = AsyncMailboxes(self._client)
        self.messages = AsyncMessages(self._client)
        self.threads = AsyncThreads(self._client)
        self.api_keys = AsyncApiKeys(self._client)
        self.events = AsyncEvents(self._client)
        self.webhooks = AsyncWebhooks(self._client)

    @property
    def base_url(self) -> str:
        return self._client.base_url

    async def whoami(self) -> SessionInfo:
        body = await self._client.request(Request("GET", "/v1/session"))
        return SessionInfo.model_validate(body)

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> AsyncTidings:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
