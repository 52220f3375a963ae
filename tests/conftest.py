"""Fixtures shared by every test: storage engines, a live server on loopback, API clients.

In CI (CI=true) a test that would be skipped because a peer is missing fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.database import Databases, postgres_admin_url
from tests.support.live import LiveServer, start_server

pytest_plugins = ["pytester"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    dbs = Databases(postgres_admin_url())
    yield dbs
    dbs.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, databases: Databases, tmp_path) -> Iterator[str]:
    """A fresh, empty database on each engine in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tidings.db'}"
        return
    with databases.fresh_postgres() as url:
        yield url


@pytest.fixture
def server(database_url: str, tmp_path) -> Iterator[LiveServer]:
    """A Tidings API served over loopback from this process, on a fresh database."""
    with start_server(database_url=database_url, data_dir=tmp_path / "data") as live:
        yield live


@pytest.fixture
def postgres_server(databases: Databases, tmp_path) -> Iterator[tuple[LiveServer, str]]:
    """A live server on its own PostgreSQL database, and that database's URL (for outages)."""
    with (
        databases.fresh_postgres() as url,
        start_server(database_url=url, data_dir=tmp_path / "data") as live,
    ):
        yield live, url
