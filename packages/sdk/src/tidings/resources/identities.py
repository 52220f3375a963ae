"""`td.identities`: agents' identities, each with its own mailbox.

They answer with identity objects (`BoundIdentity`): the identity's data, plus methods for
its mailbox bound to this client.
"""

from __future__ import annotations

from typing import Any, overload

from tidings._base_client import AsyncAPIClient, SyncAPIClient
from tidings._bodies import IdentityCreateBody, IdentityUpdateBody
from tidings._endpoints import Api, Request
from tidings._identity import (
    AsyncBindings,
    AsyncBoundIdentity,
    BoundIdentity,
    Status,
    SyncBindings,
)
from tidings._models import Deleted, Identity, NotModified
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings.resources._shared import (
    AsyncResource,
    SyncResource,
    conditional,
    idempotent,
    page_params,
)
from tidings.resources.marketplace import AsyncMarketplaceRequests, MarketplaceRequests
from tidings.resources.messages import AsyncMessages, Messages
from tidings.resources.threads import AsyncThreads, Threads


def _create(
    handle: str, display_name: str | None, description: str | None, key: str | None
) -> Request:
    body = IdentityCreateBody.given(
        handle=handle, display_name=display_name, description=description
    )
    return Api.CREATE_IDENTITY.request(body=body, headers=idempotent(key))


def _list(limit: int | None, cursor: str | None) -> Request:
    return Api.LIST_IDENTITIES.request(params=page_params(limit, cursor))


def _get(handle: str, if_none_match: str | None) -> Request:
    return Api.GET_IDENTITY.request(handle=handle, headers=conditional(if_none_match=if_none_match))


def _update(
    handle: str,
    display_name: str | None,
    description: str | None,
    status: Status | None,
    if_match: str | None,
) -> Request:
    body = IdentityUpdateBody.given(
        display_name=display_name, description=description, status=status
    )
    return Api.UPDATE_IDENTITY.request(
        handle=handle, body=body, headers=conditional(if_match=if_match)
    )


def _delete(handle: str, if_match: str | None) -> Request:
    return Api.DELETE_IDENTITY.request(handle=handle, headers=conditional(if_match=if_match))


class Identities(SyncResource):
    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)
        self._bindings = SyncBindings(
            self, Messages(client), Threads(client), MarketplaceRequests(client)
        )

    def _bound(self, identity: BoundIdentity) -> BoundIdentity:
        identity._bindings = self._bindings
        return identity

    def _parse(self, item: Any) -> BoundIdentity:
        return self._bound(BoundIdentity.model_validate(item))

    def create(
        self,
        handle: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> BoundIdentity:
        """Create an identity; its mailbox `handle@domain` is provisioned with it."""
        request = _create(handle, display_name, description, idempotency_key)
        return self._bound(self._one(request, BoundIdentity))

    @overload
    def get(self, handle: str) -> BoundIdentity: ...
    @overload
    def get(self, handle: str, *, if_none_match: str | None) -> BoundIdentity | NotModified: ...
    def get(self, handle: str, *, if_none_match: str | None = None) -> BoundIdentity | NotModified:
        """By handle or `idn_` id. Given `if_none_match=` (an ETag you hold), an unchanged
        identity answers `NotModified` instead."""
        found = self._maybe(_get(handle, if_none_match), BoundIdentity)
        return found if isinstance(found, NotModified) else self._bound(found)

    def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> SyncPage[BoundIdentity]:
        return self._parsed_page(_list(limit, cursor), Identity, self._parse)

    def update(
        self,
        handle: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        status: Status | None = None,
        if_match: str | None = None,
    ) -> BoundIdentity:
        """Change the fields given (None leaves one as it is); `status="paused"` stops
        its sending. With `if_match=` only if nobody changed it since that ETag."""
        request = _update(handle, display_name, description, status, if_match)
        return self._bound(self._one(request, BoundIdentity))

    def delete(self, handle: str, *, if_match: str | None = None) -> Deleted:
        """Delete the identity and its mailbox; its keys are revoked."""
        return self._one(_delete(handle, if_match), Deleted)


class AsyncIdentities(AsyncResource):
    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)
        self._bindings = AsyncBindings(
            self, AsyncMessages(client), AsyncThreads(client), AsyncMarketplaceRequests(client)
        )

    def _bound(self, identity: AsyncBoundIdentity) -> AsyncBoundIdentity:
        identity._bindings = self._bindings
        return identity

    def _parse(self, item: Any) -> AsyncBoundIdentity:
        return self._bound(AsyncBoundIdentity.model_validate(item))

    async def create(
        self,
        handle: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> AsyncBoundIdentity:
        request = _create(handle, display_name, description, idempotency_key)
        return self._bound(await self._one(request, AsyncBoundIdentity))

    @overload
    async def get(self, handle: str) -> AsyncBoundIdentity: ...
    @overload
    async def get(
        self, handle: str, *, if_none_match: str | None
    ) -> AsyncBoundIdentity | NotModified: ...
    async def get(
        self, handle: str, *, if_none_match: str | None = None
    ) -> AsyncBoundIdentity | NotModified:
        found = await self._maybe(_get(handle, if_none_match), AsyncBoundIdentity)
        return found if isinstance(found, NotModified) else self._bound(found)

    async def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[AsyncBoundIdentity]:
        return await self._parsed_page(_list(limit, cursor), Identity, self._parse)

    async def update(
        self,
        handle: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        status: Status | None = None,
        if_match: str | None = None,
    ) -> AsyncBoundIdentity:
        request = _update(handle, display_name, description, status, if_match)
        return self._bound(await self._one(request, AsyncBoundIdentity))

    async def delete(self, handle: str, *, if_match: str | None = None) -> Deleted:
        return await self._one(_delete(handle, if_match), Deleted)


class IdentitiesWithRawResponse:
    def __init__(self, identities: Identities) -> None:
        self.create = raw(identities.create)
        self.get = raw(identities.get)
        self.list = raw(identities.list)
        self.update = raw(identities.update)
        self.delete = raw(identities.delete)


class AsyncIdentitiesWithRawResponse:
    def __init__(self, identities: AsyncIdentities) -> None:
        self.create = araw(identities.create)
        self.get = araw(identities.get)
        self.list = araw(identities.list)
        self.update = araw(identities.update)
        self.delete = araw(identities.delete)
