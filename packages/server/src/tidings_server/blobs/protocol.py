"""The seam every blob backend implements (files now; an S3 API later)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol


class BlobNotFound(KeyError):
    pass


class BlobStore(Protocol):
    async def put(self, data: bytes) -> str:
        """Store `data` durably and return its key; storing the same bytes twice is a no-op."""
        ...

    async def get(self, key: str) -> bytes: ...

    def stream(self, key: str, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The blob in chunks, for answers that should not hold it in memory."""
        ...

    async def delete(self, key: str) -> None: ...

    def keys_written_before(self, moment: datetime) -> AsyncIterator[str]:
        """Keys of blobs last written before `moment`: candidates for orphan collection."""
        ...
