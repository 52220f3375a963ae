"""Refused for a quota or for spend: typed errors carrying the limit, and what the retry policy
does with them. The server runs on a fake clock, which a retry's `sleep` moves on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.support.live import LiveServer
from tidings import (
    APIError,
    AsyncTidings,
    QuotaExceededError,
    RateLimitError,
    RetryOptions,
    SpendLimitExceededError,
    Tidings,
)
from tidings_server.clock import FakeClock


class Sleeps:
    """A retry's `sleep` that waits for nothing: it moves the server's clock on instead."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


def test_a_quota_refusal_carries_its_limit_and_a_long_wait_is_left_to_the_caller(
    timed: LiveServer, clock: FakeClock
) -> None:
    sleeps = Sleeps(clock)
    with Tidings(timed.root_key, base_url=timed.base_url, retry=RetryOptions(sleep=sleeps)) as td:
        bot = td.identities.create("bot")
        td.quotas.update(identity="bot", sends_per_day=1)
        bot.send_mail(to="a@example.com", subject="First", body="1")
        with pytest.raises(QuotaExceededError) as refused:
            bot.send_mail(to="a@example.com", subject="Second", body="2")
        sent = [m.subject for m in bot.iter_emails()]
    error = refused.value
    assert isinstance(error, RateLimitError)
    assert (error.status, error.code, error.retryable) == (429, "quota_exceeded", True)
    assert error.headers["retry-after"] == "86400"
    assert error.limit is not None
    assert error.limit.model_dump() == {
        "name": "sends_per_day",
        "subject": "identity",
        "subject_id": bot.id,
        "limit": 1,
        "used": 1,
        "window": "day",
        "window_seconds": 86400,
        "resets_at": datetime(2030, 1, 2, tzinfo=UTC),
        "retry_after_seconds": 86400,
    }
    assert sleeps.waits == []  # a day's wait is not slept through inside a call
    assert sent == ["First"]


def test_a_quota_refusal_with_a_short_wait_is_retried_and_sent_once(
    timed: LiveServer, clock: FakeClock
) -> None:
    clock.advance(15)  # 00:00:15: the minute resets in 45 s
    sleeps = Sleeps(clock)
    with Tidings(timed.root_key, base_url=timed.base_url, retry=RetryOptions(sleep=sleeps)) as td:
        bot = td.identities.create("bot")
        td.quotas.update(identity="bot", sends_per_minute=1)
        bot.send_mail(to="a@example.com", subject="First", body="1")
        second = bot.send_mail(to="a@example.com", subject="Second", body="2")
        sent = [m.subject for m in bot.iter_emails()]
        sends = list(td.usage.ledger.list(unit="emails_sent"))
    assert sleeps.waits == [45.0]  # Retry-After, exactly
    assert second.status == "queued"
    assert sent == ["Second", "First"]  # the retry went out, once
    assert len(sends) == 2


def test_a_spend_refusal_carries_its_limit_and_is_never_retried(
    timed: LiveServer, clock: FakeClock
) -> None:
    sleeps = Sleeps(clock)
    with Tidings(timed.root_key, base_url=timed.base_url, retry=RetryOptions(sleep=sleeps)) as td:
        bot = td.identities.create("bot")
        seller = td.identities.create("seller")
        td.pricing_plans.update("bot", per_outcome="0.4")
        td.quotas.update(identity="bot", spend_per_day="1.00")
        for _ in range(2):
            bot.send_mail(to="a@example.com", subject="Work", usage={"outcomes_returned": 1})
        with pytest.raises(SpendLimitExceededError) as refused:
            bot.send_mail(to="a@example.com", subject="Work", usage={"outcomes_returned": 1})
        with pytest.raises(SpendLimitExceededError) as over_budget:
            bot.send_marketplace_request(
                to=seller.email_address, subject="Help", body="?", budget="0.5"
            )
        free = bot.send_mail(to="a@example.com", subject="No usage, no cost")
        held = td.marketplace_requests.list(role="buyer").data
    error = refused.value
    assert isinstance(error, APIError)
    assert not isinstance(error, RateLimitError)
    assert (error.status, error.code, error.retryable) == (402, "spend_limit_exceeded", False)
    assert error.limit is not None
    assert error.limit.name == "spend_per_day"
    assert error.limit.limit == Decimal(1)
    assert error.limit.used == Decimal("0.8")
    assert isinstance(error.limit.used, Decimal)
    assert over_budget.value.limit is not None
    assert over_budget.value.limit.used == Decimal("0.8")
    assert sleeps.waits == []
    assert free.status == "queued"
    assert held == []  # the refused request held nothing


async def test_the_async_client_raises_the_same_typed_errors(
    timed: LiveServer, clock: FakeClock
) -> None:
    sleeps = Sleeps(clock)
    retry = RetryOptions(sleep=sleeps)
    async with AsyncTidings(timed.root_key, base_url=timed.base_url, retry=retry) as td:
        bot = await td.identities.create("bot")
        key = await td.api_keys.create("worker", identity_id="bot")
        assert key.key is not None
        await td.quotas.update(api_key=key.id, recipients_per_day=1)
        await td.pricing_plans.update("bot", per_outcome="1")
        await td.quotas.update(identity="bot", spend_per_day="0.5")
        async with AsyncTidings(key.key, base_url=timed.base_url, retry=retry) as agent:
            agent_bot = await agent.identities.get("bot")
            await agent_bot.send_mail(to="a@example.com", subject="One")
            with pytest.raises(QuotaExceededError) as quota:
                await agent_bot.send_mail(to="b@example.com", subject="Two")
        with pytest.raises(SpendLimitExceededError) as spend:
            await bot.send_mail(to="a@example.com", subject="Paid", usage={"outcomes_returned": 1})
    assert quota.value.limit is not None
    assert (quota.value.limit.subject, quota.value.limit.subject_id) == ("api_key", key.id)
    assert quota.value.limit.name == "recipients_per_day"
    assert spend.value.limit is not None
    assert spend.value.limit.limit == Decimal("0.5")
    assert sleeps.waits == []
