"""`td.threads`: conversations in a mailbox, each with its messages oldest first."""

from __future__ import annotations

from typing import overload

from tidings._endpoints import Api, Request
from tidings._models import Deleted, NotModified, Thread, ThreadSummary
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings.resources._shared import AsyncResource, SyncResource, conditional, page_params


def _list(address: str, limit: int | None, cursor: str | None) -> Request:
    return Api.LIST_THREADS.request(address=address, params=page_params(limit, cursor))


def _get(address: str, thread_id: str, if_none_match: str | None) -> Request:
    headers = conditional(if_none_match=if_none_match)
    return Api.GET_THREAD.request(address=address, thread_id=thread_id, headers=headers)


def _delete(address: str, thread_id: str, if_match: str | None) -> Request:
    headers = conditional(if_match=if_match)
    return Api.DELETE_THREAD.request(address=address, thread_id=thread_id, headers=headers)


class Threads(SyncResource):
    def list(
        self, address: str, *, limit: int | None = None, cursor: str | None = None
    ) -> SyncPage[ThreadSummary]:
        """Newest activity first; `get` one for its messages."""
        return self._page(_list(address, limit, cursor), ThreadSummary)

    @overload
    def get(self, address: str, thread_id: str) -> Thread: ...
    @overload
    def get(
        self, address: str, thread_id: str, *, if_none_match: str | None
    ) -> Thread | NotModified: ...
    def get(
        self, address: str, thread_id: str, *, if_none_match: str | None = None
    ) -> Thread | NotModified:
        """The thread with its messages, oldest first."""
        return self._maybe(_get(address, thread_id, if_none_match), Thread)

    def delete(self, address: str, thread_id: str, *, if_match: str | None = None) -> Deleted:
        """Delete the thread and every message in it."""
        return self._one(_delete(address, thread_id, if_match), Deleted)


class AsyncThreads(AsyncResource):
    async def list(
        self, address: str, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[ThreadSummary]:
        return await self._page(_list(address, limit, cursor), ThreadSummary)

    @overload
    async def get(self, address: str, thread_id: str) -> Thread: ...
    @overload
    async def get(
        self, address: str, thread_id: str, *, if_none_match: str | None
    ) -> Thread | NotModified: ...
    async def get(
        self, address: str, thread_id: str, *, if_none_match: str | None = None
    ) -> Thread | NotModified:
        return await self._maybe(_get(address, thread_id, if_none_match), Thread)

    async def delete(self, address: str, thread_id: str, *, if_match: str | None = None) -> Deleted:
        return await self._one(_delete(address, thread_id, if_match), Deleted)


class ThreadsWithRawResponse:
    def __init__(self, threads: Threads) -> None:
        self.list = raw(threads.list)
        self.get = raw(threads.get)
        self.delete = raw(threads.delete)


class AsyncThreadsWithRawResponse:
    def __init__(self, threads: AsyncThreads) -> None:
        self.list = araw(threads.list)
        self.get = araw(threads.get)
        self.delete = araw(threads.delete)
