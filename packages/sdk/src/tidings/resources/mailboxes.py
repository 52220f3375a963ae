"""`td.mailboxes`: the hosted addresses (one per identity), and searching them."""

from __future__ import annotations

from tidings._base_client import Request
from tidings._models import Mailbox, SearchHit
from tidings._pagination import AsyncPage, SyncPage
from tidings.resources._shared import AsyncResource, SyncResource, page_params


def _update(address: str, display_name: str | None) -> Request:
    return Request("PATCH", f"/v1/mailboxes/{address}", json={"display_name": display_name})


def _search(address: str, q: str, limit: int | None, cursor: str | None) -> Request:
    return Request("GET", f"/v1/mailboxes/{address}/search", params=page_params(limit, cursor, q=q))


class Mailboxes(SyncResource):
    def list(self, *, limit: int | None = None, cursor: str | None = None) -> SyncPage[Mailbox]:
        return self._page(
            Request("GET", "/v1/mailboxes", params=page_params(limit, cursor)), Mailbox
        )

    def get(self, address: str) -> Mailbox:
        return self._one(Request("GET", f"/v1/mailboxes/{address}"), Mailbox)

    def update(self, address: str, *, display_name: str | None) -> Mailbox:
        return self._one(_update(address, display_name), Mailbox)

    def search(
        self, address: str, q: str, *, limit: int | None = None, cursor: str | None = None
    ) -> SyncPage[SearchHit]:
        """Full-text search, best first, each hit with a `[marked]` snippet."""
        return self._page(_search(address, q, limit, cursor), SearchHit)


class AsyncMailboxes(AsyncResource):
    async def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[Mailbox]:
        request = Request("GET", "/v1/mailboxes", params=page_params(limit, cursor))
        return await self._page(request, Mailbox)

    async def get(self, address: str) -> Mailbox:
        return await self._one(Request("GET", f"/v1/mailboxes/{address}"), Mailbox)

    async def update(self, address: str, *, display_name: str | None) -> Mailbox:
        return await self._one(_update(address, display_name), Mailbox)

    async def search(
        self, address: str, q: str, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[SearchHit]:
        return await self._page(_search(address, q, limit, cursor), SearchHit)
