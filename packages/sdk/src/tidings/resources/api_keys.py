"""`td.api_keys`: mint keys (the secret is shown once), list them, revoke them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, overload

from tidings._bodies import ApiKeyCreateBody
from tidings._endpoints import Api, Request
from tidings._models import ApiKey, ApiKeyCreated, Deleted, NotModified
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings.resources._shared import (
    AsyncResource,
    SyncResource,
    conditional,
    idempotent,
    page_params,
)

Kind = Literal["root", "agent"]


def _create(
    name: str, kind: Kind, identity_id: str | None, expires_at: datetime | None, key: str | None
) -> Request:
    body = ApiKeyCreateBody.given(
        name=name, kind=kind, identity_id=identity_id, expires_at=expires_at
    )
    return Api.CREATE_API_KEY.request(body=body, headers=idempotent(key))


def _get(key_id: str, if_none_match: str | None) -> Request:
    return Api.GET_API_KEY.request(key_id=key_id, headers=conditional(if_none_match=if_none_match))


def _delete(key_id: str, if_match: str | None) -> Request:
    return Api.DELETE_API_KEY.request(key_id=key_id, headers=conditional(if_match=if_match))


class ApiKeys(SyncResource):
    def create(
        self,
        name: str,
        *,
        kind: Kind = "agent",
        identity_id: str | None = None,
        expires_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> ApiKeyCreated:
        """An agent key needs `identity_id` (an id or handle); `.key` holds the secret."""
        request = _create(name, kind, identity_id, expires_at, idempotency_key)
        return self._one(request, ApiKeyCreated)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> SyncPage[ApiKey]:
        return self._page(Api.LIST_API_KEYS.request(params=page_params(limit, cursor)), ApiKey)

    @overload
    def get(self, key_id: str) -> ApiKey: ...
    @overload
    def get(self, key_id: str, *, if_none_match: str | None) -> ApiKey | NotModified: ...
    def get(self, key_id: str, *, if_none_match: str | None = None) -> ApiKey | NotModified:
        return self._maybe(_get(key_id, if_none_match), ApiKey)

    def delete(self, key_id: str, *, if_match: str | None = None) -> Deleted:
        """Revoke the key; it answers 401 `api_key_revoked` from now on."""
        return self._one(_delete(key_id, if_match), Deleted)


class AsyncApiKeys(AsyncResource):
    async def create(
        self,
        name: str,
        *,
        kind: Kind = "agent",
        identity_id: str | None = None,
        expires_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> ApiKeyCreated:
        request = _create(name, kind, identity_id, expires_at, idempotency_key)
        return await self._one(request, ApiKeyCreated)

    async def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[ApiKey]:
        request = Api.LIST_API_KEYS.request(params=page_params(limit, cursor))
        return await self._page(request, ApiKey)

    @overload
    async def get(self, key_id: str) -> ApiKey: ...
    @overload
    async def get(self, key_id: str, *, if_none_match: str | None) -> ApiKey | NotModified: ...
    async def get(self, key_id: str, *, if_none_match: str | None = None) -> ApiKey | NotModified:
        return await self._maybe(_get(key_id, if_none_match), ApiKey)

    async def delete(self, key_id: str, *, if_match: str | None = None) -> Deleted:
        return await self._one(_delete(key_id, if_match), Deleted)


class ApiKeysWithRawResponse:
    def __init__(self, api_keys: ApiKeys) -> None:
        self.create = raw(api_keys.create)
        self.list = raw(api_keys.list)
        self.get = raw(api_keys.get)
        self.delete = raw(api_keys.delete)


class AsyncApiKeysWithRawResponse:
    def __init__(self, api_keys: AsyncApiKeys) -> None:
        self.create = araw(api_keys.create)
        self.list = araw(api_keys.list)
        self.get = araw(api_keys.get)
        self.delete = araw(api_keys.delete)
