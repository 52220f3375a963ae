"""Usage through the SDK: reported on every kind of send, priced on exact plans, booked in the
ledger (pages and streamed exports), totalled, and limited by quotas."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer
from tidings import (
    AsyncTidings,
    LedgerEntry,
    Message,
    NotModified,
    OutboundAttachment,
    PermissionDeniedError,
    PreconditionFailedError,
    RetryOptions,
    Tidings,
    Usage,
    ValidationError,
)
from tidings_server.clock import FakeClock

PLAN: dict[str, Any] = {
    "tokens_input_per_1k": "0.5",
    "tokens_output_per_1k": Decimal("1.5"),
    "per_outcome": "0.1",
    "compute_per_second": "0.002",
    "custom_units": {"pages": "0.01"},
}


def amounts(entries: list[LedgerEntry]) -> dict[str, Decimal]:
    return {e.unit: e.amount for e in entries}


def test_every_kind_of_send_reports_usage_priced_on_the_plan(
    server: LiveServer, tmp_path: Path
) -> None:
    report = tmp_path / "report.txt"
    report.write_text("42\n")
    with Tidings(server.root_key, base_url=server.base_url) as td:
        bot = td.identities.create("bot")
        ana = td.identities.create("ana")
        td.pricing_plans.update("bot", **PLAN)

        def send() -> Message:  # the same send each time: the same idempotency key
            return bot.send_mail(
                to=ana.email_address, subject="Your summary", body="Here it is.",
                headers={"X-Job": "7"}, correlation_id="job-7", idempotency_key="send-7",
                usage=Usage(tokens_input=1234, compute_ms=1500, custom_units={"pages": "3.5"}),
                attachments=[OutboundAttachment(path=report, content_type="text/plain")],
            )  # fmt: skip

        sent, again = send(), send()
        [received] = wait_for(lambda: list(ana.iter_emails(direction="inbound")))
        entries = list(td.usage.ledger.list(identity="bot", correlation_id="job-7"))
        on_arrival = list(td.usage.ledger.list(identity="ana", correlation_id="job-7"))
        replied = td.messages.reply(
            ana.email_address, received.id, body_text="Thanks", usage={"outcomes_returned": 1}
        )
        [answer] = wait_for(lambda: list(bot.iter_emails(direction="inbound")))
        everyone = bot.reply(answer.id, reply_all=True, body_text="+1", usage={"tokens_output": 10})
        forwarded = td.messages.forward(
            bot.email_address, answer.id, to=["boss@example.com"], usage={"outcomes_returned": 2}
        )
        by_message = {
            m.id: amounts(list(td.usage.ledger.list(kind="usage", correlation_id=m.correlation_id)))
            for m in (everyone, forwarded)
        }
    assert sent.body_text == "Here it is.\n"
    assert sent.usage == Usage(tokens_input=1234, compute_ms=1500, custom_units={"pages": "3.5"})
    assert sent.usage is not None
    assert sent.usage.custom_units == {"pages": Decimal("3.5")}
    assert (sent.reservation_key or "").startswith("rsv_")
    assert sent.correlation_id == "job-7"
    assert [a.filename for a in sent.attachments] == ["report.txt"]
    assert again.id == sent.id  # the same key: the first send, metered once
    assert amounts(entries) == {
        "emails_sent": Decimal(0),
        "tokens_input": Decimal("0.617"),  # 1234 / 1000 * 0.5
        "compute_ms": Decimal("0.003"),  # 1.5 s * 0.002
        "custom.pages": Decimal("0.035"),
    }
    assert {(e.message_id, e.idempotency_key, e.reservation_key) for e in entries} == {
        (sent.id, "send-7", sent.reservation_key)
    }
    assert received.usage == sent.usage  # the received copy shows it too
    # the copy keeps the sender's correlation id, so its metering can be traced to the job
    assert [(e.unit, e.message_id) for e in on_arrival] == [("emails_received", received.id)]
    assert replied.usage == Usage(outcomes_returned=1)  # ana has no plan: booked, at no cost
    assert by_message[everyone.id] == {"tokens_output": Decimal("0.015")}
    assert by_message[forwarded.id] == {"outcomes_returned": Decimal("0.2")}


def test_amounts_are_decimals_never_floats(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        bot = td.identities.create("bot")
        with pytest.raises(TypeError, match="float"):
            td.pricing_plans.update("bot", per_outcome=0.1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="float"):
            bot.send_mail(to="a@example.com", subject="x", usage={"custom_units": {"p": 0.5}})
        with pytest.raises(TypeError, match="body= or body_text="):
            bot.send_mail(to="a@example.com", subject="x", body="a", body_text="b")
        with pytest.raises(ValueError, match="tokens"):  # a misspelt unit never leaves
            bot.send_mail(to="a@example.com", subject="x", usage={"tokens": 5})
        with pytest.raises(ValidationError) as refused:  # what only the server knows
            bot.send_mail(to="a@example.com", subject="x", usage={"tokens_input": -1})
        assert refused.value.param == "usage.tokens_input"
        assert list(bot.iter_emails()) == []  # nothing above was sent

        td.pricing_plans.update("bot", per_outcome="0.1")
        for _ in range(10):
            bot.send_mail(to="a@example.com", subject="Tick", usage=Usage(outcomes_returned=1))
        total = td.usage.summary(group_by="identity", period="total")
    assert sum(0.1 for _ in range(10)) != 1.0
    assert total.totals.spend == Decimal(1)
    assert isinstance(total.totals.spend, Decimal)
    assert [g.amount for g in total.data] == [Decimal(1)]


def test_a_pricing_plan_round_trips_exactly_with_conditional_requests(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        td.identities.create("seller")
        assert td.pricing_plans.get("seller").kinds == []
        plan = td.pricing_plans.update(
            "seller", tokens_input_per_1k=Decimal("0.000000001"), per_outcome=2,
            custom_units={"pages": "12.3456789"},
        )  # fmt: skip
        fetched = td.pricing_plans.get("seller")
        unchanged = td.pricing_plans.get("seller", if_none_match=fetched.etag)
        raw = td.with_raw_response.pricing_plans.get("seller")
        td.pricing_plans.update("seller", per_outcome="3", if_match=fetched.etag)
        with pytest.raises(PreconditionFailedError):
            td.pricing_plans.update("seller", per_outcome="4", if_match=fetched.etag)
        cleared = td.pricing_plans.update("seller")
        features = td.whoami().features
    assert (features.usage, features.marketplace, features.currency) == (True, True, "USD")
    assert plan.kinds == ["token_based", "per_outcome", "custom"]
    assert plan.tokens_input_per_1k == Decimal("0.000000001")
    assert plan.per_outcome == Decimal(2)
    assert plan.custom_units == {"pages": Decimal("12.3456789")}
    assert plan.tokens_output_per_1k is None
    assert plan.currency == "USD"
    assert fetched == plan
    assert isinstance(unchanged, NotModified)
    assert raw.headers["etag"] == fetched.etag
    assert raw.parse() == plan
    assert cleared.kinds == []
    assert cleared.per_outcome is None


def test_the_ledger_pages_newest_first_and_exports_everything_oldest_first(
    server: LiveServer, tmp_path: Path
) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        bot = td.identities.create("bot")
        for n in range(3):
            bot.send_mail(to="x@example.com", subject=f"n{n}", usage={"tokens_input": n + 1})
        first = td.usage.ledger.list(limit=2)
        walked = list(first)
        with td.usage.ledger.export(format="jsonl") as export:
            assert export.http_response.headers["content-type"] == "application/x-ndjson"
            lines = list(export)
        rows = list(csv.DictReader(td.usage.ledger.export(format="csv", unit="tokens_input")))
        written = td.usage.ledger.export(format="csv").write_to(tmp_path / "ledger.csv")
        with (tmp_path / "copy.jsonl").open("wb") as out:
            td.usage.ledger.export(kind="usage").write_to(out)
        with pytest.raises(ValidationError) as bad:  # connects at once: refused right here
            td.usage.ledger.export(kind="refund")  # type: ignore[typeddict-item]
    assert len(first.data) == 2
    assert first.has_more
    assert len(walked) == 6  # every page: three sends, each emails_sent + tokens_input
    assert all(line.endswith("\n") for line in lines)
    exported = [json.loads(line) for line in lines]
    assert [e.id for e in walked] == [e["id"] for e in reversed(exported)]  # as booked
    # The same entries, each exactly as the pages show it; the sends oldest first.
    assert {e["id"]: LedgerEntry.model_validate(e) for e in exported} == {e.id: e for e in walked}
    assert [e["quantity"] for e in exported if e["unit"] == "tokens_input"] == ["1", "2", "3"]
    assert [r["quantity"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) >= {"id", "kind", "unit", "quantity", "amount", "currency"}
    saved = (tmp_path / "ledger.csv").read_bytes()
    assert written == len(saved)
    assert len(saved.splitlines()) == 7  # the header and six entries
    copied = (tmp_path / "copy.jsonl").read_text().splitlines()
    assert [json.loads(line)["quantity"] for line in copied] == ["1", "2", "3"]
    assert bad.value.param == "kind"


def test_totals_group_by_identity_key_unit_and_period(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        ana, bob = td.identities.create("ana"), td.identities.create("bob")
        for who in (ana, bob, ana):
            td.pricing_plans.update(who.handle, per_outcome="2")
            who.send_mail(to="x@example.com", subject="Hi", usage={"outcomes_returned": 1})
        by_identity = td.usage.summary(group_by=["identity"], kind="usage")
        only_bob = td.usage.summary(identity="bob", group_by="key", period="total")
        hourly = td.usage.summary(group_by=["unit", "kind"], period="hour")
    assert {g.identity_id: g.amount for g in by_identity.data} == {
        ana.id: Decimal(4),
        bob.id: Decimal(2),
    }
    assert by_identity.period == "day"
    assert all(g.period_start is not None and g.period_start.hour == 0 for g in by_identity.data)
    assert only_bob.totals.spend == Decimal(2)
    assert only_bob.totals.earnings == Decimal(0)
    assert only_bob.group_by == ["key"]
    assert [g.api_key_id is not None for g in only_bob.data] == [True]
    assert {(g.unit, g.kind) for g in hourly.data} == {
        ("emails_sent", "send"),
        ("outcomes_returned", "usage"),
    }


def test_quotas_for_identities_and_keys_are_set_and_read(server: LiveServer) -> None:
    with Tidings(server.root_key, base_url=server.base_url) as td:
        bot = td.identities.create("bot")
        key = td.api_keys.create("worker", identity_id="bot")
        assert key.key is not None
        none = td.quotas.get(identity="bot")
        set_ = td.quotas.update(identity="bot", sends_per_day=5, spend_per_day="1.50")
        bot.send_mail(to=["a@example.com", "b@example.com"], subject="Hi")
        used = td.quotas.get(identity=bot.id)
        keyed = td.quotas.update(api_key=key.id, sends_per_minute=1)
        with pytest.raises(TypeError, match="exactly one"):
            td.quotas.get()
        with pytest.raises(TypeError, match="exactly one"):
            td.quotas.get(identity="bot", api_key=key.id)
        with Tidings(key.key, base_url=server.base_url) as agent:
            own = agent.quotas.get(api_key=key.id)
            assert agent.quotas.get(identity="bot").limit("sends_per_day").used == 1
            with pytest.raises(PermissionDeniedError):
                agent.quotas.update(identity="bot", sends_per_day=1000)
    assert [limit.limit for limit in none.limits] == [None, None, None, None]
    assert set_.subject == "identity"
    assert set_.subject_id == bot.id
    assert set_.limit("sends_per_day").limit == 5
    assert set_.limit("spend_per_day").limit == Decimal("1.5")
    assert isinstance(set_.limit("spend_per_day").limit, Decimal)
    assert used.limit("sends_per_day").used == 1
    assert used.limit("recipients_per_day").used == 2
    assert used.limit("spend_per_day").used == Decimal(0)
    assert keyed.subject == "api_key"
    assert {limit.name: limit.limit for limit in keyed.limits} == {
        "sends_per_minute": 1,
        "sends_per_day": None,
        "recipients_per_day": None,
        "spend_per_day": None,
    }
    assert (own.subject_id, own.limits[0].limit) == (key.id, 1)
    with pytest.raises(KeyError):
        keyed.limit("sends_per_hour")


async def test_the_async_client_meters_prices_exports_and_limits(
    server: LiveServer, tmp_path: Path
) -> None:
    async with AsyncTidings(server.root_key, base_url=server.base_url) as td:
        bot = await td.identities.create("bot")
        await td.pricing_plans.update("bot", tokens_output_per_1k="2")
        sent = await bot.send_mail(
            to="a@example.com", subject="Work", body="Done", usage=Usage(tokens_output=250)
        )
        page = await td.usage.ledger.list(kind="usage")
        entries = [entry async for entry in page]
        summary = await td.usage.summary(period="total")
        async with td.usage.ledger.export(format="csv") as export:
            rows = [line async for line in export]
        written = await td.usage.ledger.export().write_to(tmp_path / "ledger.jsonl")
        quotas = await td.quotas.update(identity="bot", recipients_per_day=3)
        plan = await td.pricing_plans.get("bot")
    assert sent.usage == Usage(tokens_output=250)
    assert [(e.unit, e.amount) for e in entries] == [("tokens_output", Decimal("0.5"))]
    assert summary.totals.spend == Decimal("0.5")
    assert rows[0].startswith("id,")
    assert len(rows) == 3  # the header, emails_sent and tokens_output
    assert written == (tmp_path / "ledger.jsonl").stat().st_size
    assert quotas.limit("recipients_per_day").used == 1
    assert plan.tokens_output_per_1k == Decimal(2)


async def test_an_export_is_retried_like_any_get_until_its_body_starts(
    limited: tuple[LiveServer, FakeClock],
) -> None:
    server, clock = limited  # three requests a minute: the fourth is a real 429
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    retry = RetryOptions(sleep=sleep)
    with Tidings(server.root_key, base_url=server.base_url, retry=retry) as td:
        bot = td.identities.create("bot")
        bot.send_mail(to="x@example.com", subject="Hi")
        td.whoami()
        lines = list(td.usage.ledger.export())  # refused, waited for, asked again
    clock.advance(60)
    async with AsyncTidings(server.root_key, base_url=server.base_url, retry=retry) as atd:
        for _ in range(3):
            await atd.whoami()
        async with atd.usage.ledger.export(format="csv") as export:
            rows = [line async for line in export]
    assert len(waits) == 2
    assert [json.loads(line)["unit"] for line in lines] == ["emails_sent"]
    assert len(rows) == 2  # the header and the one entry
