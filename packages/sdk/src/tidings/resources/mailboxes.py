"""`td.mailboxes`: the hosted addresses (one per identity), and searching them."""

from __future__ import annotations

from typing import overload

from tidings._bodies import MailboxUpdateBody
from tidings._endpoints import Api, Request
from tidings._models import Mailbox, NotModified, SearchHit
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings.resources._shared import AsyncResource, SyncResource, conditional, page_params


def _get(address: str, if_none_match: str | None) -> Request:
    return Api.GET_MAILBOX.request(
        address=address, headers=conditional(if_none_match=if_none_match)
    )


def _update(address: str, display_name: str | None, if_match: str | None) -> Request:
    return Api.UPDATE_MAILBOX.request(
        address=address, body=MailboxUpdateBody(display_name=display_name),
        headers=conditional(if_match=if_match),
    )  # fmt: skip


def _search(address: str, q: str, limit: int | None, cursor: str | None) -> Request:
    return Api.SEARCH_MAILBOX.request(address=address, params=page_params(limit, cursor, q=q))


class Mailboxes(SyncResource):
    def list(self, *, limit: int | None = None, cursor: str | None = None) -> SyncPage[Mailbox]:
        return self._page(Api.LIST_MAILBOXES.request(params=page_params(limit, cursor)), Mailbox)

    @overload
    def get(self, address: str) -> Mailbox: ...
    @overload
    def get(self, address: str, *, if_none_match: str | None) -> Mailbox | NotModified: ...
    def get(self, address: str, *, if_none_match: str | None = None) -> Mailbox | NotModified:
        """By address or `mbx_` id. Given `if_none_match=` (an ETag you hold), an unchanged
        mailbox answers `NotModified` instead."""
        return self._maybe(_get(address, if_none_match), Mailbox)

    def update(
        self, address: str, *, display_name: str | None, if_match: str | None = None
    ) -> Mailbox:
        """Set (or with None, clear) the name mail from this address carries."""
        return self._one(_update(address, display_name, if_match), Mailbox)

    def search(
        self, address: str, q: str, *, limit: int | None = None, cursor: str | None = None
    ) -> SyncPage[SearchHit]:
        """Full-text search, best first, each hit with a `[marked]` snippet.

        Every term must match as a word prefix. The server ranks only the newest matches
        (1,000 by default); add terms to reach older messages."""
        return self._page(_search(address, q, limit, cursor), SearchHit)


class AsyncMailboxes(AsyncResource):
    async def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[Mailbox]:
        request = Api.LIST_MAILBOXES.request(params=page_params(limit, cursor))
        return await self._page(request, Mailbox)

    @overload
    async def get(self, address: str) -> Mailbox: ...
    @overload
    async def get(self, address: str, *, if_none_match: str | None) -> Mailbox | NotModified: ...
    async def get(self, address: str, *, if_none_match: str | None = None) -> Mailbox | NotModified:
        return await self._maybe(_get(address, if_none_match), Mailbox)

    async def update(
        self, address: str, *, display_name: str | None, if_match: str | None = None
    ) -> Mailbox:
        return await self._one(_update(address, display_name, if_match), Mailbox)

    async def search(
        self, address: str, q: str, *, limit: int | None = None, cursor: str | None = None
    ) -> AsyncPage[SearchHit]:
        return await self._page(_search(address, q, limit, cursor), SearchHit)


class MailboxesWithRawResponse:
    def __init__(self, mailboxes: Mailboxes) -> None:
        self.list = raw(mailboxes.list)
        self.get = raw(mailboxes.get)
        self.update = raw(mailboxes.update)
        self.search = raw(mailboxes.search)


class AsyncMailboxesWithRawResponse:
    def __init__(self, mailboxes: AsyncMailboxes) -> None:
        self.list = araw(mailboxes.list)
        self.get = araw(mailboxes.get)
        self.update = araw(mailboxes.update)
        self.search = araw(mailboxes.search)
