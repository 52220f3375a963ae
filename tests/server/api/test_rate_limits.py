"""Each key has a request budget per window, described on every answer and enforced with 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.database import Databases
from tests.support.live import LiveServer, start_server
from tidings_server.api.rate_limit import DatabaseRateLimiter
from tidings_server.clock import FakeClock
from tidings_server.settings import RateLimit
from tidings_server.store.engine import create_engine, create_sync_engine, session_factory

LIMIT = 5
WINDOW = 60


@dataclass
class LimitedServer:
    live: LiveServer
    clock: FakeClock


@pytest.fixture
def limited(database_url: str, tmp_path: Path) -> Iterator[LimitedServer]:
    """A server allowing 5 requests per key per minute, on a clock that moves only when told."""
    clock = FakeClock()
    with start_server(
        database_url=database_url,
        data_dir=tmp_path / "data",
        clock=clock,
        rate_limit=RateLimit(requests=LIMIT, window_seconds=WINDOW),
    ) as live:
        yield LimitedServer(live, clock)


def rate_headers(answer: httpx2.Response) -> tuple[int, int, int]:
    return (
        int(answer.headers["X-RateLimit-Limit"]),
        int(answer.headers["X-RateLimit-Remaining"]),
        int(answer.headers["X-RateLimit-Reset"]),
    )


def assert_rate_limited(answer: httpx2.Response) -> int:
    """Check the 429 envelope and return its Retry-After in seconds."""
    assert answer.status_code == 429, answer.text
    error = answer.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert error["retryable"] is True
    assert error["fix"].strip()
    assert answer.headers["X-Request-Id"] == error["request_id"]
    retry_after = answer.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert int(retry_after) >= 1
    return int(retry_after)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/session", None),
        ("GET", "/v1/identities", None),
        ("POST", "/v1/identities", {"handle": "ana"}),
        ("GET", "/v1/identities/nobody", None),
        ("POST", "/v1/identities", {"handle": 1}),
    ],
)
def test_every_authenticated_answer_describes_the_budget(
    server: LiveServer, method: str, path: str, body: dict[str, object] | None
) -> None:
    """Successes and errors alike carry X-RateLimit-Limit/Remaining/Reset."""
    with server.client() as api:
        answer = api.request(method, path, json=body)
    assert answer.status_code < 500
    limit, remaining, reset = rate_headers(answer)
    assert limit == server.settings.rate_limit.requests
    assert 0 <= remaining < limit
    now = time.time()
    assert now < reset <= now + server.settings.rate_limit.window_seconds + 1


def test_remaining_counts_down_with_each_request(limited: LimitedServer) -> None:
    with limited.live.client() as api:
        answers = [api.get("/v1/session") for _ in range(LIMIT)]
    assert [a.status_code for a in answers] == [200] * LIMIT
    assert [rate_headers(a)[1] for a in answers] == [4, 3, 2, 1, 0]
    assert {rate_headers(a)[0] for a in answers} == {LIMIT}
    resets = {rate_headers(a)[2] for a in answers}
    assert len(resets) == 1
    now = limited.clock.now().timestamp()
    assert now < resets.pop() <= now + WINDOW


def test_the_request_over_the_limit_is_refused_with_retry_after(limited: LimitedServer) -> None:
    with limited.live.client() as api:
        for _ in range(LIMIT):
            assert api.get("/v1/session").status_code == 200
        refused = api.get("/v1/session")
    retry_after = assert_rate_limited(refused)
    limit, remaining, reset = rate_headers(refused)
    assert (limit, remaining) == (LIMIT, 0)
    now = limited.clock.now().timestamp()
    assert retry_after == pytest.approx(reset - now, abs=1)
    assert retry_after <= WINDOW


def test_a_refused_request_changes_nothing(limited: LimitedServer) -> None:
    with limited.live.client() as api:
        for _ in range(LIMIT):
            assert api.get("/v1/identities").status_code == 200
        refused = api.post("/v1/identities", json={"handle": "ana"})
        assert_rate_limited(refused)
        limited.clock.advance(WINDOW)
        listed = api.get("/v1/identities")
    assert listed.status_code == 200
    assert listed.json()["data"] == []


def test_requests_go_through_again_after_the_window(limited: LimitedServer) -> None:
    with limited.live.client() as api:
        for _ in range(LIMIT):
            api.get("/v1/session")
        retry_after = assert_rate_limited(api.get("/v1/session"))
        limited.clock.advance(retry_after - 1)
        assert_rate_limited(api.get("/v1/session"))
        limited.clock.advance(1)
        again = api.get("/v1/session")
    assert again.status_code == 200, again.text
    assert rate_headers(again)[1] == LIMIT - 1


def test_limits_are_per_key(limited: LimitedServer) -> None:
    """One busy key does not lock out another."""
    with limited.live.client() as api:
        second = api.post("/v1/api-keys", json={"name": "second", "kind": "root"})
        assert second.status_code == 201, second.text
        for _ in range(LIMIT - 1):
            api.get("/v1/session")
        assert_rate_limited(api.get("/v1/session"))
    with limited.live.client(second.json()["key"]) as other:
        answers = [other.get("/v1/session") for _ in range(LIMIT)]
        over = other.get("/v1/session")
    assert [a.status_code for a in answers] == [200] * LIMIT
    assert rate_headers(answers[0])[1] == LIMIT - 1
    assert_rate_limited(over)


def test_an_agent_key_has_its_own_budget(limited: LimitedServer) -> None:
    with limited.live.client() as api:
        assert api.post("/v1/identities", json={"handle": "ana"}).status_code == 201
        agent = api.post(
            "/v1/api-keys", json={"name": "ana", "kind": "agent", "identity_id": "ana"}
        )
        assert agent.status_code == 201, agent.text
        for _ in range(LIMIT - 2):
            api.get("/v1/session")
        assert_rate_limited(api.get("/v1/session"))
    with limited.live.client(agent.json()["key"]) as ana:
        answer = ana.get("/v1/session")
    assert answer.status_code == 200, answer.text
    assert rate_headers(answer)[1] == LIMIT - 1


@dataclass
class TwoProcesses:
    clock: FakeClock
    a: httpx2.Client
    b: httpx2.Client


@pytest.fixture
def two_processes(databases: Databases, tmp_path: Path) -> Iterator[TwoProcesses]:
    """Two servers on one PostgreSQL database, as two `tidings serve` processes would be,
    allowing 5 requests per key per minute on one clock, and a client of each."""
    clock = FakeClock()
    limit = RateLimit(requests=LIMIT, window_seconds=WINDOW)
    shared = {"data_dir": tmp_path / "data", "clock": clock, "rate_limit": limit}
    with (
        databases.fresh_postgres() as url,
        start_server(database_url=url, **shared) as first,
        start_server(database_url=url, **shared) as second,
        first.client() as a,
        second.client() as b,
    ):
        yield TwoProcesses(clock, a, b)


def test_processes_on_one_database_share_a_keys_budget(two_processes: TwoProcesses) -> None:
    """Taking turns, the two servers allow five requests in all, not five each."""
    a, b = two_processes.a, two_processes.b
    answers = [(a, b)[i % 2].get("/v1/session") for i in range(LIMIT + 2)]
    two_processes.clock.advance(WINDOW)
    next_window = [b.get("/v1/session"), a.get("/v1/session")]
    assert [x.status_code for x in answers] == [200] * LIMIT + [429, 429]
    # Below half the budget a process may not yet have seen the other's latest requests, so
    # Remaining can lag; from half on, each request is counted in the database before it is
    # answered, so the count is exact where it decides.
    remaining = [rate_headers(x)[1] for x in answers[:LIMIT]]
    assert remaining == sorted(remaining, reverse=True), remaining
    assert remaining[-1] == 0
    assert [x.status_code for x in next_window] == [200, 200]
    assert rate_headers(next_window[1])[1] <= LIMIT - 2


def test_a_process_that_falls_quiet_still_reports_its_requests(
    two_processes: TwoProcesses,
) -> None:
    """Requests one server counted alone reach the shared count without a later request."""
    early = [two_processes.a.get("/v1/session") for _ in range(2)]
    time.sleep(0.5)  # the counting process flushes within 100 ms of real time
    later = [two_processes.b.get("/v1/session") for _ in range(LIMIT)]
    assert [x.status_code for x in early] == [200, 200]
    assert [x.status_code for x in later] == [200] * (LIMIT - 2) + [429, 429]


def _limiter_on(url: str, *, requests: int) -> tuple[AsyncEngine, DatabaseRateLimiter]:
    """A limiter counting in the database at `url` (syncing every 50 ms), and its engine."""
    engine = create_engine(url)
    limit = RateLimit(requests=requests, window_seconds=WINDOW)
    return engine, DatabaseRateLimiter(
        limit, session_factory(engine, writes=True), sync_seconds=0.05
    )


async def test_requests_being_counted_in_the_database_still_count_meanwhile(
    databases: Databases,
) -> None:
    """A request answered while this process's earlier hits are on their way to the
    database still counts them in its Remaining."""
    with databases.fresh_postgres() as url:
        engine, limiter = _limiter_on(url, requests=10)
        now = 6_000_000.0  # the start of a window
        assert (await limiter.hit("key_1", now)).remaining == 9  # the first is sent at once
        assert (await limiter.hit("key_1", now)).remaining == 8  # this one by a timer
        other = create_sync_engine(url)
        blocker = other.connect()
        # Another transaction holds the key's row, so the timer's addition waits for it.
        blocker.execute(sa.text("SELECT count FROM rate_limit_windows FOR UPDATE"))
        await asyncio.sleep(0.3)
        assert (await limiter.hit("key_1", now + 0.3)).remaining == 7
        blocker.rollback()
        blocker.close()
        other.dispose()
        await asyncio.sleep(0.3)  # both additions reach the database
        assert (await limiter.hit("key_1", now + 0.6)).remaining == 6
        await engine.dispose()


async def test_below_half_the_budget_no_request_waits_for_the_database(
    databases: Databases,
) -> None:
    """Once a window's first request has learnt the shared count, requests below half of
    the budget are answered at once, even while the key's row is locked elsewhere; their
    hits reach the database when it is free."""
    with databases.fresh_postgres() as url:
        engine, limiter = _limiter_on(url, requests=100)
        now = 6_000_000.0
        await limiter.hit("key_1", now)
        other = create_sync_engine(url)
        with other.connect() as blocker:
            blocker.execute(sa.text("SELECT count FROM rate_limit_windows FOR UPDATE"))
            for step in range(1, 6):
                await asyncio.sleep(0.1)  # well past sync_seconds each time
                decision = await asyncio.wait_for(limiter.hit("key_1", now + step / 10), 1)
                assert decision.remaining == 100 - 1 - step
            blocker.rollback()
        await asyncio.sleep(0.3)
        with other.connect() as reader:
            counted = reader.scalar(sa.text("SELECT count FROM rate_limit_windows"))
        other.dispose()
        await engine.dispose()
    assert counted == 6
