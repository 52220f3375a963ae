"""Fixtures the SDK tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveServer, start_server
from tidings_server.clock import FakeClock
from tidings_server.settings import RateLimit


@pytest.fixture
def limited(database_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, FakeClock]]:
    """A server on a fake clock that lets each key make three requests a minute: the fourth
    is a real 429, and moving the clock on (from a retry's `sleep`) lets the next through."""
    clock = FakeClock()
    with start_server(
        database_url=database_url, data_dir=tmp_path / "data", clock=clock,
        rate_limit=RateLimit(requests=3, window_seconds=60),
    ) as server:  # fmt: skip
        yield server, clock
