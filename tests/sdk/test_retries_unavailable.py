"""Retries against a real 503: the server's PostgreSQL turns connections away for a moment.

The sleep the SDK asks for is where the database comes back, so each test is deterministic:
the first attempt meets a refusing database, the retry a working one.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from tests.support.database import Databases
from tests.support.live import LiveServer
from tidings import AsyncTidings, InternalServerError, RetryOptions, Tidings


class Outage:
    """A database outage that ends when the SDK sleeps before retrying."""

    def __init__(self, databases: Databases, url: str) -> None:
        self.stack = ExitStack()
        self.stack.enter_context(databases.refusing_connections(url))
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.stack.close()

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def test_a_503_is_retried_after_retry_after(
    postgres_server: tuple[LiveServer, str], databases: Databases
) -> None:
    live, url = postgres_server
    with Tidings(live.root_key, base_url=live.base_url) as td:
        td.identities.create("bot")
    outage = Outage(databases, url)
    with Tidings(
        live.root_key, base_url=live.base_url, retry=RetryOptions(sleep=outage.sleep)
    ) as td:
        assert [i.handle for i in td.identities.list()] == ["bot"]
    assert len(outage.waits) == 1
    assert 1 <= outage.waits[0] <= 2
    # A POST is retried too, because the SDK gave it an Idempotency-Key.
    outage = Outage(databases, url)
    with Tidings(
        live.root_key, base_url=live.base_url, retry=RetryOptions(sleep=outage.sleep)
    ) as td:
        assert td.identities.create("second").handle == "second"
        assert sorted(i.handle for i in td.identities.list()) == ["bot", "second"]
    assert len(outage.waits) == 1


def test_without_retries_the_503_surfaces_as_a_typed_error(
    postgres_server: tuple[LiveServer, str], databases: Databases
) -> None:
    live, url = postgres_server
    with (
        databases.refusing_connections(url),
        Tidings(live.root_key, base_url=live.base_url, max_retries=0) as td,
        pytest.raises(InternalServerError) as failed,
    ):
        td.identities.list()
    assert failed.value.status == 503
    assert failed.value.code == "database_unavailable"
    assert failed.value.retryable


async def test_the_async_client_retries_a_503(
    postgres_server: tuple[LiveServer, str], databases: Databases
) -> None:
    live, url = postgres_server
    outage = Outage(databases, url)
    options = RetryOptions(sleep=outage.async_sleep)
    async with AsyncTidings(live.root_key, base_url=live.base_url, retry=options) as td:
        assert (await td.whoami()).key.kind == "root"
    assert len(outage.waits) == 1
