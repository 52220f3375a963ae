"""The one place requests are built, retried and turned into results or typed errors.

`SyncAPIClient` and `AsyncAPIClient` only do I/O; everything they decide comes from
`BaseClient`, so the two behave the same.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Self

import httpx2

from tidings._endpoints import Request
from tidings._exceptions import APIConnectionError, APIError, APITimeoutError, from_response
from tidings._raw import record
from tidings._retry import RetryOptions, delay_for, may_retry, should_retry_status

JSON = Any
DEFAULT_TIMEOUT = 30.0  # of the httpx client the SDK makes when not given one


class BaseClient:
    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str,
        timeout: float | None,
        retry: RetryOptions,
        default_headers: Mapping[str, str] | None,
        logger: logging.Logger | None,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout  # None: the httpx client's own
        self.retry = retry
        self.default_headers = dict(default_headers or {})
        self.logger = logger
        self._owns_http = True

    def derive(
        self,
        *,
        timeout: float | None = None,
        retry: RetryOptions | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> Self:
        """The same client with some options changed, sharing (and never closing) its
        connections."""
        twin = copy.copy(self)
        twin._owns_http = False
        if timeout is not None:
            twin.timeout = timeout
        if retry is not None:
            twin.retry = retry
        if default_headers is not None:
            twin.default_headers = {**self.default_headers, **default_headers}
        return twin

    def headers_for(self, request: Request) -> dict[str, str]:
        headers = {"Accept": "application/json", **self.default_headers, **request.headers}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if request.method == "POST" and not any(k.lower() == "idempotency-key" for k in headers):
            # Every POST gets a key, so retrying it can never act twice.
            headers["Idempotency-Key"] = f"sdk-{uuid.uuid4()}"
        if request.body is not None:
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(request.body.length)
        return headers

    def send_args(self, request: Request, headers: Mapping[str, str]) -> dict[str, Any]:
        """What httpx needs for one attempt, except the body (sync and async differ there)."""
        timeout = httpx2.USE_CLIENT_DEFAULT if self.timeout is None else self.timeout
        return {
            "method": request.method,
            "url": self.base_url + request.path,
            "params": request.params,
            "headers": headers,
            "timeout": timeout,
        }

    def retry_delay(
        self, request: Request, headers: Mapping[str, str], attempt: int, options: RetryOptions,
        *, response: httpx2.Response | None = None, error: Exception | None = None,
    ) -> float | None:  # fmt: skip
        """Seconds to wait before trying again, or None to stop here."""
        if attempt >= options.attempts or not may_retry(request.method, headers):
            return None
        if response is not None:
            envelope: dict[str, Any] = {}
            if response.status_code == 409:  # only a 409 needs its envelope read to decide
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

    def outcome(
        self, request: Request, attempt: int, started: float,
        response: httpx2.Response | None = None, error: Exception | None = None,
        wait: float | None = None,
    ) -> None:  # fmt: skip
        """Log one attempt (when debugging). Never the headers: they carry the key."""
        if self.logger is None:
            return
        took = f"{(time.monotonic() - started) * 1000:.0f} ms"
        if response is not None:
            result = f"{response.status_code} {response.headers.get('x-request-id', '')}".rstrip()
        else:
            result = f"failed: {type(error).__name__}"
        retrying = f", retrying in {wait:.2f} s" if wait is not None else ""
        self.logger.debug(
            "%s %s -> %s (attempt %d, %s%s)",
            request.method, self.base_url + request.path, result, attempt, took, retrying,
        )  # fmt: skip

    def check(self, response: httpx2.Response) -> httpx2.Response:
        """The answer, or its typed error raised."""
        if response.status_code >= 400:
            raise from_response(response.status_code, response.headers, _json(response))
        record(response)
        return response

    def stream_request(self, request: Request, read_timeout: float | None) -> dict[str, Any]:
        """Arguments for a streamed request. Connecting keeps the client's timeout; reading
        waits `read_timeout` for the next bytes, which must outlast the server's heartbeat."""
        connect = DEFAULT_TIMEOUT if self.timeout is None else self.timeout
        return {
            "method": request.method,
            "url": self.base_url + request.path,
            "params": request.params,
            "headers": self.headers_for(request),
            "timeout": httpx2.Timeout(connect, read=read_timeout),
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
        self.http = http_client or httpx2.Client(timeout=DEFAULT_TIMEOUT)

    def request(self, request: Request, *, stream: bool = False) -> httpx2.Response:
        """Send it, retrying as the policy allows; the answer, or its typed error raised.

        `stream=True` leaves a successful answer's body unread: the caller reads and closes
        it. Only the answer is retried, never a body half read.
        """
        options, headers = self.retry, self.headers_for(request)
        attempt = 1
        while True:
            started = time.monotonic()
            content = request.body.content() if request.body is not None else None
            try:
                sent = self.http.build_request(**self.send_args(request, headers), content=content)
                response = self.http.send(sent, stream=stream)
                if stream and response.status_code >= 400:
                    try:
                        response.read()  # the error envelope, which decides on a retry
                    finally:
                        response.close()
            except httpx2.TransportError as error:
                wait = self.retry_delay(request, headers, attempt, options, error=error)
                self.outcome(request, attempt, started, error=error, wait=wait)
                if wait is None:
                    raise self.connection_error(error) from error
            else:
                wait = self.retry_delay(request, headers, attempt, options, response=response)
                self.outcome(request, attempt, started, response=response, wait=wait)
                if wait is None:
                    return self.check(response)
            options.sleep(wait)
            attempt += 1

    def open_stream(self, request: Request, *, read_timeout: float | None) -> httpx2.Response:
        """Send one request and leave its body unread, or raise its typed error.

        Not retried here: a stream's caller decides whether and from where to resume.
        """
        started = time.monotonic()
        try:
            response = self.http.send(
                self.http.build_request(**self.stream_request(request, read_timeout)), stream=True
            )
        except httpx2.TransportError as error:
            self.outcome(request, 1, started, error=error)
            raise self.connection_error(error) from error
        self.outcome(request, 1, started, response=response)
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
        self.http = http_client or httpx2.AsyncClient(timeout=DEFAULT_TIMEOUT)

    async def request(self, request: Request, *, stream: bool = False) -> httpx2.Response:
        options, headers = self.retry, self.headers_for(request)
        attempt = 1
        while True:
            started = time.monotonic()
            content = request.body.acontent() if request.body is not None else None
            try:
                sent = self.http.build_request(**self.send_args(request, headers), content=content)
                response = await self.http.send(sent, stream=stream)
                if stream and response.status_code >= 400:
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
            except httpx2.TransportError as error:
                wait = self.retry_delay(request, headers, attempt, options, error=error)
                self.outcome(request, attempt, started, error=error, wait=wait)
                if wait is None:
                    raise self.connection_error(error) from error
            else:
                wait = self.retry_delay(request, headers, attempt, options, response=response)
                self.outcome(request, attempt, started, response=response, wait=wait)
                if wait is None:
                    return self.check(response)
            await self.pause(wait)
            attempt += 1

    async def pause(self, seconds: float) -> None:
        sleep = self.retry.sleep
        if sleep is time.sleep:  # the default: never block the event loop
            await asyncio.sleep(seconds)
        else:
            outcome = sleep(seconds)
            if asyncio.iscoroutine(outcome):
                await outcome

    async def open_stream(self, request: Request, *, read_timeout: float | None) -> httpx2.Response:
        """Send one request and leave its body unread, or raise its typed error (no retry)."""
        started = time.monotonic()
        try:
            response = await self.http.send(
                self.http.build_request(**self.stream_request(request, read_timeout)), stream=True
            )
        except httpx2.TransportError as error:
            self.outcome(request, 1, started, error=error)
            raise self.connection_error(error) from error
        self.outcome(request, 1, started, response=response)
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
