"""`td.threads`: conversations in a mailbox, each with its messages oldest first."""

from __future__ import annotations

from tidings._base_client import Request
from tidings._models import Deleted, Thread
from tidings._pagination import AsyncPage, SyncPage
from tidings.resources._shared import AsyncResource, SyncResource, page_params


def _path(address: str, thread_id: str = "") -> str:
    return f"/v1/mailboxes/{address}/threads" + (f"/{thread_id}" if thread_id else "")


class Threads(SyncResource):
    def list(
        self, address: str, *, limit: int | None = None, cursor: str | None = None
    ) -> SyncPage[Thread]:
        return self._page(Request("GET", _path(address), params=page_params(limit, cursor)), Thread)

    def get(self, address: str, thread_id: str) -> Thread:
        return self._one(Request("GET", _path(address, thread_id)), Thread)

    def delete(self, address: str, thread_id: str) -> Deleted:
        return self._one(Request("DELETE", _path(address, thread_id)), Deleted)


class AsyncThreads(AsyncResource):
    async def list(
        self, address: str, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[Thread]:
        request = Request("GET", _path(address), params=page_params(limit, cursor))
        return await self._page(request, Thread)

    async def get(self, address: str, thread_id: str) -> Thread:
        return await self._one(Request("GET", _path(address, thread_id)), Thread)

    async def delete(self, address: str, thread_id: str) -> Deleted:
        return await self._one(Request("DELETE", _path(address, thread_id)), Deleted)
