"""Quotas: sends per minute and day, distinct recipients per day, spend per day."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.support.api import assert_error, create_agent_key, create_identity, send_mail
from tests.support.database import Databases
from tests.support.live import LiveServer, start_server
from tests.support.process import serve_process
from tidings_server.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # 2030-01-01T00:00:00Z


@pytest.fixture
def timed(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    with start_server(database_url=database_url, data_dir=tmp_path / "data", clock=clock) as live:
        yield live


def send(api: httpx2.Client, sender: str, to: list[str], **fields: Any) -> httpx2.Response:
    return api.post(f"/v1/mailboxes/{sender}/messages", json={"to": to, "subject": "Hi", **fields})


def limit_of(answer: httpx2.Response, name: str) -> dict[str, Any]:
    for limit in answer.json()["limits"]:
        if limit["name"] == name:
            return dict(limit)
    raise AssertionError(name)


def test_sends_per_minute_refuses_with_the_limit_and_resets(
    timed: LiveServer, clock: FakeClock
) -> None:
    clock.advance(15)  # 00:00:15
    with timed.client() as api:
        bot = create_identity(api, "bot")
        put = api.put("/v1/identities/bot/quotas", json={"sends_per_minute": 2})
        assert put.status_code == 200, put.text
        assert send(api, bot, ["a@example.com"]).status_code == 202
        assert send(api, bot, ["a@example.com"]).status_code == 202
        refused = send(api, bot, ["a@example.com"])
        error = assert_error(refused, 429, "quota_exceeded")
        stored = api.get(f"/v1/mailboxes/{bot}/messages").json()["data"]
        clock.advance(45)  # the next minute
        again = send(api, bot, ["a@example.com"])
    assert refused.headers["Retry-After"] == "45"
    assert error["retryable"] is True
    assert error["limit"] == {
        "name": "sends_per_minute",
        "subject": "identity",
        "subject_id": put.json()["subject_id"],
        "limit": 2,
        "used": 2,
        "window": "minute",
        "window_seconds": 60,
        "resets_at": "2030-01-01T00:01:00Z",
        "retry_after_seconds": 45,
    }
    assert "sends_per_minute" in error["message"]
    assert len(stored) == 2
    assert again.status_code == 202


def test_a_key_quota_limits_that_key_only(timed: LiveServer, clock: FakeClock) -> None:
    with timed.client() as api:
        bot = create_identity(api, "bot")
        limited = create_agent_key(api, "bot")
        other = create_agent_key(api, "bot")
        key_id = next(
            k["id"]
            for k in api.get("/v1/api-keys").json()["data"]
            if limited.startswith(k["prefix"])
        )
        assert (
            api.put(f"/v1/api-keys/{key_id}/quotas", json={"sends_per_day": 1}).status_code == 200
        )
    with timed.client(limited) as agent:
        assert send(agent, bot, ["a@example.com"]).status_code == 202
        error = assert_error(send(agent, bot, ["a@example.com"]), 429, "quota_exceeded")
        shown = agent.get(f"/v1/api-keys/{key_id}/quotas")
    with timed.client(other) as agent:
        assert send(agent, bot, ["a@example.com"]).status_code == 202
    assert error["limit"]["subject"] == "api_key"
    assert error["limit"]["window"] == "day"
    assert error["limit"]["resets_at"] == "2030-01-02T00:00:00Z"
    assert limit_of(shown, "sends_per_day")["used"] == 1


def test_distinct_recipients_per_day(timed: LiveServer, clock: FakeClock) -> None:
    with timed.client() as api:
        bot = create_identity(api, "bot")
        api.put("/v1/identities/bot/quotas", json={"recipients_per_day": 2})
        assert send(api, bot, ["a@example.com", "b@example.com"]).status_code == 202
        assert send(api, bot, ["A@example.com"]).status_code == 202  # seen today already
        refused = send(api, bot, ["a@example.com"], cc=["c@example.com"])
        error = assert_error(refused, 429, "quota_exceeded")
        shown = api.get("/v1/identities/bot/quotas")
        clock.advance(24 * 3600)
        tomorrow = send(api, bot, ["c@example.com"])
    assert error["limit"]["name"] == "recipients_per_day"
    assert error["limit"]["used"] == 2
    assert limit_of(shown, "recipients_per_day") | {"resets_at": None} == {
        "name": "recipients_per_day",
        "subject": "identity",
        "subject_id": shown.json()["subject_id"],
        "limit": 2,
        "used": 2,
        "window": "day",
        "window_seconds": 86400,
        "resets_at": None,
        "retry_after_seconds": 86400,
    }
    assert tomorrow.status_code == 202


def test_spend_per_day_is_a_402_that_names_the_limit(timed: LiveServer, clock: FakeClock) -> None:
    with timed.client() as api:
        bot = create_identity(api, "bot")
        api.put("/v1/identities/bot/pricing", json={"per_outcome": "0.4"})
        api.put("/v1/identities/bot/quotas", json={"spend_per_day": "1.00"})
        one = {"usage": {"outcomes_returned": 1}}
        assert send(api, bot, ["a@example.com"], **one).status_code == 202
        assert send(api, bot, ["a@example.com"], **one).status_code == 202
        refused = send(api, bot, ["a@example.com"], **one)
        free = send(api, bot, ["a@example.com"])  # costs nothing, so it goes
        shown = api.get("/v1/identities/bot/quotas")
    error = assert_error(refused, 402, "spend_limit_exceeded", "usage")
    assert error["limit"]["limit"] == "1"
    assert error["limit"]["used"] == "0.8"
    assert error["retryable"] is False
    assert free.status_code == 202
    assert limit_of(shown, "spend_per_day")["used"] == "0.8"


def test_quotas_read_and_replace(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "bot")
        key = create_agent_key(api, "bot")
        none = api.get("/v1/identities/bot/quotas").json()
        api.put("/v1/identities/bot/quotas", json={"sends_per_day": 5, "sends_per_minute": 1})
        replaced = api.put("/v1/identities/bot/quotas", json={"sends_per_day": 7}).json()
        bad = api.put("/v1/identities/bot/quotas", json={"sends_per_day": -1})
    assert [limit["limit"] for limit in none["limits"]] == [None, None, None, None]
    assert {limit["name"]: limit["limit"] for limit in replaced["limits"]} == {
        "sends_per_minute": None,
        "sends_per_day": 7,
        "recipients_per_day": None,
        "spend_per_day": None,
    }
    assert_error(bad, 422, "validation_error", "sends_per_day")
    with server.client(key) as agent:
        assert agent.get("/v1/identities/bot/quotas").status_code == 200
        denied = agent.put("/v1/identities/bot/quotas", json={"sends_per_day": 1000})
        assert_error(denied, 403, "forbidden")


def test_concurrent_sends_never_overshoot_a_quota_on_postgresql(
    databases: Databases, tmp_path: Path
) -> None:
    """Two `tidings serve` processes on one database race 24 sends against a limit of 5."""
    with (
        databases.fresh_postgres() as url,
        serve_process(tmp_path / "a", database_url=url) as first,
        serve_process(tmp_path / "b", database_url=url) as second,
    ):
        key = first.root_key
        with first.client(key) as api:
            bot = create_identity(api, "bot")
            api.put("/v1/identities/bot/quotas", json={"sends_per_day": 5})
        barrier = threading.Barrier(24)
        statuses: list[int] = []

        def attempt(index: int) -> None:
            with (first if index % 2 else second).client(key) as api:
                barrier.wait()
                statuses.append(send(api, bot, [f"r{index}@example.com"]).status_code)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with second.client(key) as api:
            stored = api.get(f"/v1/mailboxes/{bot}/messages", params={"limit": 100}).json()
            sent = api.get("/v1/usage/ledger", params={"unit": "emails_sent", "limit": 100})
    assert sorted(set(statuses)) == [202, 429]
    assert statuses.count(202) == 5
    assert len(stored["data"]) == 5
    assert len(sent.json()["data"]) == 5


def test_an_ordinary_send_without_quotas_still_books_its_recipients(server: LiveServer) -> None:
    """A quota set later in the day counts the recipients already written to."""
    with server.client() as api:
        bot = create_identity(api, "bot")
        send_mail(api, bot, ["a@example.com", "b@example.com"], "Before")
        api.put("/v1/identities/bot/quotas", json={"recipients_per_day": 2})
        assert_error(send(api, bot, ["c@example.com"]), 429, "quota_exceeded")
