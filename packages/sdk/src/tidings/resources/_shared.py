"""What every resource does with a request: call the client, shape the answer into models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from pydantic import BaseModel

from tidings._base_client import AsyncAPIClient, Request, SyncAPIClient
from tidings._pagination import AsyncPage, SyncPage

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def page_params(limit: int | None, cursor: str | None, **filters: Any) -> dict[str, Any]:
    params = {k: v for k, v in filters.items() if v is not None}
    if limit is not None:
        params["limit"] = limit
    if cursor is not None:
        params["cursor"] = cursor
    return params


def with_cursor(request: Request, cursor: str) -> Request:
    return replace(request, params={**(request.params or {}), "cursor": cursor})


def idempotent(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


class SyncResource:
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client

    def _one(self, request: Request, model: type[M]) -> M:
        return model.model_validate(self._client.request(request))

    def _page(self, request: Request, model: type[M]) -> SyncPage[M]:
        return self._parsed_page(request, model.model_validate)

    def _parsed_page(self, request: Request, parse: Callable[[Any], T]) -> SyncPage[T]:
        """A page whose items `parse` makes (a model's validator, or `parse_event`)."""
        body = self._client.request(request)
        return SyncPage(
            [parse(item) for item in body["data"]],
            has_more=bool(body["pagination"]["has_more"]),
            next_cursor=body["pagination"]["next_cursor"],
            fetch=lambda cursor: self._parsed_page(with_cursor(request, cursor), parse),
        )


class AsyncResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    async def _one(self, request: Request, model: type[M]) -> M:
        return model.model_validate(await self._client.request(request))

    async def _page(self, request: Request, model: type[M]) -> AsyncPage[M]:
        return await self._parsed_page(request, model.model_validate)

    async def _parsed_page(self, request: Request, parse: Callable[[Any], T]) -> AsyncPage[T]:
        body = await self._client.request(request)

        async def fetch(cursor: str) -> AsyncPage[T]:
            return await self._parsed_page(with_cursor(request, cursor), parse)

        return AsyncPage(
            [parse(item) for item in body["data"]],
            has_more=bool(body["pagination"]["has_more"]),
            next_cursor=body["pagination"]["next_cursor"],
            fetch=fetch,
        )
