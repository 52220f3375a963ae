"""Blobs as files under `<data-dir>/blobs/ab/cd/<sha256>`, fsync'd (file and directory)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from tidings_server.blobs.protocol import BlobNotFound


def _key_for(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise BlobNotFound(key)
        return self.root / key[:2] / key[2:4] / key

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            os.utime(path)  # a fresh write time keeps a blob being re-referenced from collection
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary file of this write's own: writers of the same bytes at the same moment
        # (two sessions delivering one message) shared one named by the process, so one
        # truncated the file the other had just renamed into place, and then failed.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
        try:
            with open(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(path.parent)

    async def put(self, data: bytes) -> str:
        key = _key_for(data)
        await asyncio.to_thread(self._write, key, data)
        return key

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def stream(self, key: str, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(open, self._path(key), "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def keys_written_before(self, moment: datetime) -> AsyncIterator[str]:
        """Also removes, on the way, temporary files older than `moment`: what a write that
        never finished (the process died mid-write) left behind; a live write takes
        milliseconds."""
        cutoff = moment.timestamp()
        paths = await asyncio.to_thread(lambda: list(self.root.glob("??/??/*")))
        for path in paths:
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                if path.name.startswith("."):
                    await asyncio.to_thread(path.unlink)
                else:
                    yield path.name
            except FileNotFoundError:
                continue
