"""A ledger export as it downloads (`GET /v1/usage/ledger?format=jsonl|csv`).

The server streams every matching entry, oldest first, whatever their number; these objects
hand it on as it comes, so an export is never held in memory whole. Iterating gives lines
with their line endings, as a text file does: `json.loads(line)` for JSONL,
`csv.DictReader(export)` for CSV (which then also reads a quoted value spanning lines).
"""

from __future__ import annotations

import asyncio
import codecs
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import httpx2

from tidings._base_client import AsyncAPIClient, SyncAPIClient
from tidings._endpoints import Request

__all__ = ["AsyncLedgerExport", "LedgerExport"]

Target = str | os.PathLike[str] | BinaryIO


class _Lines:
    """Bytes in, complete UTF-8 lines out; a line or character cut across chunks waits."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._partial = ""

    def feed(self, chunk: bytes, *, final: bool = False) -> list[str]:
        # Only "\n" ends a line ("\r\n" keeps its "\r"): `str.splitlines` would also split
        # at characters such as U+2028 that a CSV value may hold.
        *complete, self._partial = (self._partial + self._decoder.decode(chunk, final)).split("\n")
        lines = [line + "\n" for line in complete]
        if final and self._partial:
            lines.append(self._partial)
            self._partial = ""
        return lines


def _opened(target: Target) -> AbstractContextManager[BinaryIO]:
    if isinstance(target, str | os.PathLike):
        return Path(target).open("wb")
    return nullcontext(target)  # the caller's file: theirs to close


class LedgerExport:
    """The export of `td.usage.ledger.export(...)`, connected and ready to read once.

    Iterate it for lines, `iter_bytes()` for the body as it comes, or `write_to(path or
    binary file)`. Reading to the end hangs up; `with` (or `close()`) does it earlier.
    """

    def __init__(self, client: SyncAPIClient, request: Request) -> None:
        self._client = client
        self._response = client.request(request, stream=True)

    @property
    def http_response(self) -> httpx2.Response:
        """The answer (status, headers such as `content-type`), its body still unread."""
        return self._response

    def iter_bytes(self) -> Iterator[bytes]:
        try:
            yield from self._client.iter_bytes(self._response)
        finally:
            self._response.close()

    def __iter__(self) -> Iterator[str]:
        lines = _Lines()
        for chunk in self.iter_bytes():
            yield from lines.feed(chunk)
        yield from lines.feed(b"", final=True)

    def write_to(self, target: Target) -> int:
        """Write the whole export to a path (created or replaced) or an open binary file;
        the number of bytes written."""
        written = 0
        with _opened(target) as out:
            for chunk in self.iter_bytes():
                written += out.write(chunk)
        return written

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> LedgerExport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncLedgerExport:
    """The async client's export: it connects on `async with` (or when first read), then
    reads like `LedgerExport` with `async for` and `await export.write_to(...)`."""

    def __init__(self, client: AsyncAPIClient, request: Request) -> None:
        self._client = client
        self._request = request
        self._response: httpx2.Response | None = None

    async def _start(self) -> httpx2.Response:
        if self._response is None:
            self._response = await self._client.request(self._request, stream=True)
        return self._response

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        response = await self._start()
        try:
            async for chunk in self._client.iter_bytes(response):
                yield chunk
        finally:
            await response.aclose()

    async def _lines(self) -> AsyncIterator[str]:
        lines = _Lines()
        async for chunk in self.iter_bytes():
            for line in lines.feed(chunk):
                yield line
        for line in lines.feed(b"", final=True):
            yield line

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def write_to(self, target: Target) -> int:
        written = 0
        with _opened(target) as out:
            async for chunk in self.iter_bytes():
                # Disk writes in a worker thread, so a slow disk never stalls the loop.
                written += await asyncio.to_thread(out.write, chunk)
        return written

    async def close(self) -> None:
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> AsyncLedgerExport:
        await self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
