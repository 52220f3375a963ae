"""What every resource does with a request: call the client, shape the answer into models.

The model a resource asks for must be the table's response model for that endpoint (or a
subclass of it), so what `_endpoints.Api` says an endpoint answers is what the SDK parses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import httpx2

from tidings._base_client import AsyncAPIClient, Request, SyncAPIClient
from tidings._models import Model, NotModified
from tidings._pagination import AsyncPage, SyncPage

M = TypeVar("M", bound=Model)
T = TypeVar("T")


def given_params(**params: Any) -> dict[str, Any]:
    """The query parameters given (None is left out), datetimes in ISO 8601."""
    return {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in params.items()
        if v is not None
    }


def page_params(limit: int | None, cursor: str | None, **filters: Any) -> dict[str, Any]:
    return given_params(**filters, limit=limit, cursor=cursor)


def with_cursor(request: Request, cursor: str) -> Request:
    return replace(request, params={**(request.params or {}), "cursor": cursor})


def idempotent(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


def conditional(*, if_match: str | None = None, if_none_match: str | None = None) -> dict[str, str]:
    """`If-Match` (change only that version) and `If-None-Match` (send it only if changed)."""
    headers = {"If-Match": if_match, "If-None-Match": if_none_match}
    return {k: v for k, v in headers.items() if v}


def _checked(request: Request, model: type[Any]) -> None:
    declared = request.api.value.response
    if declared is None or not issubclass(model, declared):
        raise TypeError(f"{request.api.name} answers {declared}, not {model.__name__}")


def parse_one(request: Request, response: httpx2.Response, model: type[M]) -> M:
    _checked(request, model)
    parsed = model.model_validate(response.json())
    parsed._etag = response.headers.get("etag")
    return parsed


def parse_maybe(request: Request, response: httpx2.Response, model: type[M]) -> M | NotModified:
    if response.status_code == 304:
        return NotModified(etag=response.headers.get("etag"))
    return parse_one(request, response, model)


def _items(request: Request, body: Any, model: type[Any], parse: Callable[[Any], T]) -> list[T]:
    _checked(request, model)
    return [parse(item) for item in body["data"]]


class SyncResource:
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client

    def _one(self, request: Request, model: type[M]) -> M:
        return parse_one(request, self._client.request(request), model)

    def _maybe(self, request: Request, model: type[M]) -> M | NotModified:
        return parse_maybe(request, self._client.request(request), model)

    def _bytes(self, request: Request) -> bytes:
        return self._client.request(request).content

    def _items(self, request: Request, model: type[M]) -> list[M]:
        """A `{data: [...]}` answer that is not paginated."""
        body = self._client.request(request).json()
        return _items(request, body, model, model.model_validate)

    def _page(self, request: Request, model: type[M]) -> SyncPage[M]:
        return self._parsed_page(request, model, model.model_validate)

    def _parsed_page(
        self, request: Request, model: type[Any], parse: Callable[[Any], T]
    ) -> SyncPage[T]:
        """A page of `model`s that `parse` makes, when a plain validate will not do (events
        pick their model by type, identities are bound to the client)."""
        body = self._client.request(request).json()
        return SyncPage(
            _items(request, body, model, parse),
            has_more=bool(body["pagination"]["has_more"]),
            next_cursor=body["pagination"]["next_cursor"],
            fetch=lambda cursor: self._parsed_page(with_cursor(request, cursor), model, parse),
        )


class AsyncResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    async def _one(self, request: Request, model: type[M]) -> M:
        return parse_one(request, await self._client.request(request), model)

    async def _maybe(self, request: Request, model: type[M]) -> M | NotModified:
        return parse_maybe(request, await self._client.request(request), model)

    async def _bytes(self, request: Request) -> bytes:
        return (await self._client.request(request)).content

    async def _items(self, request: Request, model: type[M]) -> list[M]:
        body = (await self._client.request(request)).json()
        return _items(request, body, model, model.model_validate)

    async def _page(self, request: Request, model: type[M]) -> AsyncPage[M]:
        return await self._parsed_page(request, model, model.model_validate)

    async def _parsed_page(
        self, request: Request, model: type[Any], parse: Callable[[Any], T]
    ) -> AsyncPage[T]:
        body = (await self._client.request(request)).json()

        async def fetch(cursor: str) -> AsyncPage[T]:
            return await self._parsed_page(with_cursor(request, cursor), model, parse)

        return AsyncPage(
            _items(request, body, model, parse),
            has_more=bool(body["pagination"]["has_more"]),
            next_cursor=body["pagination"]["next_cursor"],
            fetch=fetch,
        )
