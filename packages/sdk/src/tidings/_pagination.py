"""Pages of a cursor-paginated list. Iterating a page walks every page; `.data` is just this one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["AsyncPage", "SyncPage", "iter_cursor_pages"]

T = TypeVar("T")


class SyncPage(Generic[T]):
    def __init__(
        self,
        data: list[T],
        *,
        has_more: bool,
        next_cursor: str | None,
        fetch: Callable[[str], SyncPage[T]],
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.next_cursor = next_cursor
        self._fetch = fetch

    def next_page(self) -> SyncPage[T] | None:
        if not self.has_more or self.next_cursor is None:
            return None
        return self._fetch(self.next_cursor)

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        page: SyncPage[T] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(Generic[T]):
    def __init__(
        self,
        data: list[T],
        *,
        has_more: bool,
        next_cursor: str | None,
        fetch: Callable[[str], Awaitable[AsyncPage[T]]],
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.next_cursor = next_cursor
        self._fetch = fetch

    async def next_page(self) -> AsyncPage[T] | None:
        if not self.has_more or self.next_cursor is None:
            return None
        return await self._fetch(self.next_cursor)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.next_page()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


def iter_cursor_pages(
    fetch_page: Callable[[str | None], tuple[list[T], str | None]],
) -> Iterator[T]:
    """Walk any cursor-paginated function: it takes a cursor and returns (items, next_cursor)."""
    cursor: str | None = None
    while True:
        items, cursor = fetch_page(cursor)
        yield from items
        if cursor is None:
            return
