"""`td.identities`: agents' identities, each with its own mailbox."""

from __future__ import annotations

from typing import Literal

from tidings._base_client import Request
from tidings._models import Deleted, Identity
from tidings._pagination import AsyncPage, SyncPage
from tidings.resources._shared import AsyncResource, SyncResource, idempotent, page_params

Status = Literal["active", "paused"]


def _create(
    handle: str, display_name: str | None, description: str | None, key: str | None
) -> Request:
    body = {"handle": handle, "display_name": display_name, "description": description}
    json = {k: v for k, v in body.items() if v is not None}
    return Request("POST", "/v1/identities", json=json, headers=idempotent(key))


def _update(handle: str, changes: dict[str, object], if_match: str | None) -> Request:
    headers = {"If-Match": if_match} if if_match else {}
    return Request("PATCH", f"/v1/identities/{handle}", json=changes, headers=headers)


class Identities(SyncResource):
    def create(
        self,
        handle: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> Identity:
        """Create an identity; its mailbox `handle@domain` is provisioned with it."""
        return self._one(_create(handle, display_name, description, idempotency_key), Identity)

    def get(self, handle: str) -> Identity:
        """By handle or `idn_` id."""
        return self._one(Request("GET", f"/v1/identities/{handle}"), Identity)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> SyncPage[Identity]:
        return self._page(
            Request("GET", "/v1/identities", params=page_params(limit, cursor)), Identity
        )

    def update(
        self, handle: str, *, if_match: str | None = None, **changes: str | None
    ) -> Identity:
        """Change `display_name`, `description` or `status` ("active" or "paused")."""
        return self._one(_update(handle, dict(changes), if_match), Identity)

    def delete(self, handle: str) -> Deleted:
        """Delete the identity and its mailbox; its keys are revoked."""
        return self._one(Request("DELETE", f"/v1/identities/{handle}"), Deleted)


class AsyncIdentities(AsyncResource):
    async def create(
        self,
        handle: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> Identity:
        return await self._one(
            _create(handle, display_name, description, idempotency_key), Identity
        )

    async def get(self, handle: str) -> Identity:
        return await self._one(Request("GET", f"/v1/identities/{handle}"), Identity)

    async def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[Identity]:
        request = Request("GET", "/v1/identities", params=page_params(limit, cursor))
        return await self._page(request, Identity)

    async def update(
        self, handle: str, *, if_match: str | None = None, **changes: str | None
    ) -> Identity:
        return await self._one(_update(handle, dict(changes), if_match), Identity)

    async def delete(self, handle: str) -> Deleted:
        return await self._one(Request("DELETE", f"/v1/identities/{handle}"), Deleted)
