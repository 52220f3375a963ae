"""`td.api_keys`: mint keys (the secret is shown once), list them, revoke them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from tidings._base_client import Request
from tidings._models import ApiKey, ApiKeyCreated, Deleted
from tidings._pagination import AsyncPage, SyncPage
from tidings.resources._shared import AsyncResource, SyncResource, idempotent, page_params

Kind = Literal["root", "agent"]


def _create(
    name: str, kind: Kind, identity_id: str | None, expires_at: datetime | None, key: str | None
) -> Request:
    body: dict[str, object] = {"name": name, "kind": kind}
    if identity_id is not None:
        body["identity_id"] = identity_id
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    return Request("POST", "/v1/api-keys", json=body, headers=idempotent(key))


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
        return self._one(
            _create(name, kind, identity_id, expires_at, idempotency_key), ApiKeyCreated
        )

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> SyncPage[ApiKey]:
        return self._page(Request("GET", "/v1/api-keys", params=page_params(limit, cursor)), ApiKey)

    def get(self, key_id: str) -> ApiKey:
        return self._one(Request("GET", f"/v1/api-keys/{key_id}"), ApiKey)

    def delete(self, key_id: str) -> Deleted:
        """Revoke the key; it answers 401 `api_key_revoked` from now on."""
        return self._one(Request("DELETE", f"/v1/api-keys/{key_id}"), Deleted)


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
        request = Request("GET", "/v1/api-keys", params=page_params(limit, cursor))
        return await self._page(request, ApiKey)

    async def get(self, key_id: str) -> ApiKey:
        return await self._one(Request("GET", f"/v1/api-keys/{key_id}"), ApiKey)

    async def delete(self, key_id: str) -> Deleted:
        return await self._one(Request("DELETE", f"/v1/api-keys/{key_id}"), Deleted)
