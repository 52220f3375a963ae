"""The one place requests are built, retried and turned into results or typed errors.

`SyncAPIClient` and `AsyncAPIClient` only do I/O; everything they decide comes from
`BaseClient`, so the two behave the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2

from tidings._exceptions import APIConnectionError, APIError, APITimeoutError, from_response
from tidings._retry import RetryOptions, delay_for, may_retry, should_retry_status

log = logging.getLogger("tidings")
JSON = Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: JSON = None
    headers: Mapping[str, str] = field(default_factory=dict)
    binary: bool = False  # the answer is bytes (raw messages, attachments), not JSON


class BaseClient:
    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str,
        timeout: float,
        retry: RetryOptions,
        default_headers: Mapping[str, str] | None,
        debug: bool,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self.default_headers = dict(default_headers or {})
        self.debug = debug

    def headers_for(self, request: Request) -> dict[str, str]:
        headers = {"Accept": "application/json", **self.default_headers, **request.headers}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if request.method == "POST" and not any(k.lower() == "idempotency-key" for k in headers):
            # Every POST gets a key, so retrying it can never act twice.
            headers["Idempotency-Key"] = f"sdk-{uuid.uuid4()}"
        return headers

    def retry_delay(
        self, request: Request, headers: Mapping[str, str], attempt: int, options: RetryOptions,
        *, response: httpx2.Response | None = None, error: Exception | None = None,
    ) -> float | None:  # fmt: skip
        """Seconds to wait before trying again, or None to stop here."""
        if attempt >= options.attempts or not may_retry(request.method, headers):
            return None
        if response is not None:
            body = _json(response)
            envelope = body.get("error", {}) if isinstance(body, dict) else {}
            if not should_retry_status(
                response.status_code, envelope.get("code"), envelope.get("retryable")
            ):
                return None
            return delay_for(options, attempt, response.headers)
        if isinstance(error, httpx2.TransportError):
            return delay_for(options, attempt, {})
        return None

    def result(self, response: httpx2.Response, *, binary: bool = False) -> JSON:
        self.check(response)
        if binary:
            return response.content
        if response.status_code == 304 or not response.content:
            return None
        return _json(response)

    def check(self, response: httpx2.Response) -> None:
        """Log the answer (in debug mode) and raise its typed error if it is one."""
        if self.debug:
            log.debug(
                "%s %s -> %s (%s)",
                response.request.method,
                response.request.url,
                response.status_code,
                response.headers.get("x-request-id"),
            )
        if response.status_code >= 400:
            raise from_response(response.status_code, response.headers, _json(response))

    def stream_request(self, request: Request, read_timeout: float | None) -> dict[str, Any]:
        """Arguments for a streamed request. Connecting keeps the client's timeout; reading
        waits `read_timeout` for the next bytes, which must outlast the server's heartbeat."""
        return {
            "method": request.method,
            "url": self.base_url + request.path,
            "params": request.params,
            "headers": self.headers_for(request),
            "timeout": httpx2.Timeout(self.timeout, read=read_timeout),
        }

    @staticmethod
    def connection_error(error: Exception) -> APIConnectionError:
        if isinstance(error, httpx2.TimeoutException):
            return APITimeoutError(f"the server did not answer in time: {error}")
        return APIConnectionError(f"could not reach the server: {error}")


def _json(response: httpx2.Response) -> JSON:
    try:
        return response.json()
    except ValueError:
        return response.text


class SyncAPIClient(BaseClient):
    def __init__(self, *, http_client: httpx2.Client | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._owns_http = http_client is None
        self.http = http_client or httpx2.Client(timeout=self.timeout)

    def request(self, request: Request, *, retry: RetryOptions | None = None) -> JSON:
        options = retry or self.retry
        headers = self.headers_for(request)
        attempt = 1
        while True:
            try:
                response = self.http.request(
                    request.method, self.base_url + request.path, params=request.params,
                    json=request.json, headers=headers,
                )  # fmt: skip
            except httpx2.TransportError as error:
                wait = self.retry_delay(request, headers, attempt, options, error=error)
                if wait is None:
                    raise self.connection_error(error) from error
            else:
                wait = self.retry_delay(request, headers, attempt, options, response=response)
                if wait is None:
                    return self.result(response, binary=request.binary)
            options.sleep(wait)
            attempt += 1

    def open_stream(self, request: Request, *, read_timeout: float | None) -> httpx2.Response:
        """Send one request and leave its body unread, or raise its typed error.

        Not retried here: a stream's caller decides whether and from where to resume.
        """
        try:
            response = self.http.send(
                self.http.build_request(**self.stream_request(request, read_timeout)), stream=True
            )
        except httpx2.TransportError as error:
            raise self.connection_error(error) from error
        if response.status_code >= 400:
            try:
                response.read()  # the error envelope
            except httpx2.TransportError as error:
                raise self.connection_error(error) from error
            finally:
                response.close()
        self.check(response)
        return response

    def iter_bytes(self, response: httpx2.Response) -> Iterator[bytes]:
        """The body as it arrives; a broken connection raises `APIConnectionError`."""
        try:
            yield from response.iter_bytes()
        except httpx2.TransportError as error:
            raise self.connection_error(error) from error

    def pause(self, seconds: float) -> None:
        self.retry.sleep(seconds)

    def close(self) -> None:
        if self._owns_http:
            self.http.close()


class AsyncAPIClient(BaseClient):
    def __init__(self, *, http_client: httpx2.AsyncClient | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._owns_http = http_client is None
        self.http = http_client or httpx2.AsyncClient(timeout=self.timeout)

    async def request(self, request: Request, *, retry: RetryOptions | None = None) -> JSON:
        options = retry or self.retry
        headers = self.headers_for(request)
        attempt = 1
        while True:
            try:
                response = await self.http.request(
                    request.method, self.base_url + request.path, params=request.params,
                    json=request.json, headers=headers,
                )  # fmt: skip
            except httpx2.TransportError as error:
                wait = self.retry_delay(request, headers, attempt, options, error=error)
                if wait is None:
                    raise self.connection_error(error) from error
            else:
                wait = self.retry_delay(request, headers, attempt, options, response=response)
                if wait is None:
                    return self.result(response, binary=request.binary)
            await self.pause(wait, options)
            attempt += 1

    async def pause(self, seconds: float, options: RetryOptions | None = None) -> None:
        sleep = (options or self.retry).sleep
        if sleep is time.sleep:  # the default: never block the event loop
            await asyncio.sleep(seconds)
        else:
            outcome = sleep(seconds)
            if asyncio.iscoroutine(outcome):
                await outcome

    async def open_stream(self, request: Request, *, read_timeout: float | None) -> httpx2.Response:
        """Send one request and leave its body unread, or raise its typed error (no retry)."""
        try:
            response = await self.http.send(
                self.http.build_request(**self.stream_request(request, read_timeout)), stream=True
            )
        except httpx2.TransportError as error:
            raise self.connection_error(error) from error
        if response.status_code >= 400:
            try:
                await response.aread()  # the error envelope
            except httpx2.TransportError as error:
                raise self.connection_error(error) from error
            finally:
                await response.aclose()
        self.check(response)
        return response

    async def iter_bytes(self, response: httpx2.Response) -> AsyncIterator[bytes]:
        """The body as it arrives; a broken connection raises `APIConnectionError`."""
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx2.TransportError as error:
            raise self.connection_error(error) from error

    async def close(self) -> None:
        if self._owns_http:
            await self.http.aclose()


__all__ = ["APIError", "AsyncAPIClient", "BaseClient", "Request", "SyncAPIClient"]
