"""Blobs are durable files; ones no message refers to are collected after a grace period."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from tidings_server.blobs import FileBlobStore
from tidings_server.blobs.collector import collect_orphans
from tidings_server.clock import FakeClock
from tidings_server.runtime import open_runtime
from tidings_server.settings import Settings


async def test_a_stored_blob_reads_back_and_identical_bytes_share_one_file(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    first = await store.put(b"hello")
    again = await store.put(b"hello")
    assert first == again
    assert await store.get(first) == b"hello"
    assert b"".join([c async for c in store.stream(first, chunk_size=2)]) == b"hello"
    assert len(list(tmp_path.glob("??/??/*"))) == 1


async def test_the_same_bytes_stored_at_once_by_many_callers_all_succeed(tmp_path: Path) -> None:
    # Two SMTP sessions delivering the same message at the same moment store the same blob
    # from two threads; each must end with the whole file in place, none with an error.
    store = FileBlobStore(tmp_path)
    data = os.urandom(256 * 1024)
    keys = await asyncio.gather(*(store.put(data) for _ in range(16)))
    assert set(keys) == {keys[0]}
    assert await store.get(keys[0]) == data
    assert [p.name for p in tmp_path.glob("??/??/*")] == [keys[0]]
    assert list(tmp_path.glob("??/??/.*")) == []  # no temporary file left behind


async def test_only_old_unreferenced_blobs_are_collected(database_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, smtp="off")
    async with open_runtime(settings, FakeClock()) as runtime:
        orphan = await runtime.blobs.put(b"written, then the process died before the commit")
        fresh = await runtime.blobs.put(b"written a moment ago: its commit may be in flight")
        old = time.time() - 2 * 3600
        folder = settings.blob_dir / orphan[:2] / orphan[2:4]
        os.utime(folder / orphan, (old, old))
        # What a write cut short by a crash leaves, and what one in flight right now has.
        (folder / f".{orphan}.dead.tmp").write_bytes(b"half a mess")
        os.utime(folder / f".{orphan}.dead.tmp", (old, old))
        (folder / f".{orphan}.live.tmp").write_bytes(b"half a mes")
        deleted = await collect_orphans(runtime.blobs, runtime.reads, datetime.now(UTC))
    assert deleted == 1
    assert not (folder / orphan).exists()
    assert (settings.blob_dir / fresh[:2] / fresh[2:4] / fresh).exists()
    assert sorted(p.name for p in folder.glob(".*")) == [f".{orphan}.live.tmp"]
