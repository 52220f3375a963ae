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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # 2030-01-01T00:00:00Z


@pytest.fixture
def timed(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    """A server on `clock`, whose marketplace holds expire after ten minutes (checked every
    tenth of a second), so that moving the clock on expires them at once."""
    with start_server(
        database_url=database_url, data_dir=tmp_path / "data", clock=clock,
        marketplace_reservation_seconds=600, marketplace_sweep_seconds=0.1,
    ) as live:  # fmt: skip
        yield live
