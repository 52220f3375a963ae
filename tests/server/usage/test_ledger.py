"""Usage on sends: prices on a plan, entries in the append-only ledger, totals and exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx2
import pytest

from tests.support.api import assert_error, create_agent_key, create_identity, send_mail, wait_for
from tests.support.live import LiveServer

PLAN = {
    "tokens_input_per_1k": "0.5",
    "tokens_output_per_1k": "1.5",
    "per_outcome": "0.1",
    "compute_per_second": "0.002",
    "custom_units": {"pages": "0.01"},
}


def assert_invalid(answer: httpx2.Response, param: str, code: str) -> None:
    """A 422 naming the field, with that field's own error code."""
    error = assert_error(answer, 422, "validation_error", param)
    assert error["errors"][0]["code"] == code


def ledger(api: httpx2.Client, **params: Any) -> list[dict[str, Any]]:
    answer = api.get("/v1/usage/ledger", params={"limit": 100, **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def test_a_plan_mixes_kinds_and_round_trips_exact_decimals(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "seller")
        empty = api.get("/v1/identities/seller/pricing").json()
        assert empty["kinds"] == []
        assert empty["tokens_input_per_1k"] is None
        answer = api.put("/v1/identities/seller/pricing", json={**PLAN, "per_outcome": 0.1})
        assert answer.status_code == 200, answer.text
        plan = answer.json()
        assert plan["kinds"] == ["token_based", "per_outcome", "compute", "custom"]
        assert plan["per_outcome"] == "0.1"  # a JSON number, kept exact
        assert plan["custom_units"] == {"pages": "0.01"}
        assert plan["currency"] == "USD"
        assert api.get("/v1/identities/seller/pricing").json() == plan
        cleared = api.put("/v1/identities/seller/pricing", json={}).json()
        assert cleared["kinds"] == []


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"tokens_input_per_1k": "-1"}, "tokens_input_per_1k", "invalid_value"),
        ({"per_outcome": "0.0000000001"}, "per_outcome", "invalid_value"),
        ({"per_outcome": "lots"}, "per_outcome", "invalid_value"),
        ({"per_outcome": True}, "per_outcome", "invalid_value"),
        ({"custom_units": {"Bad Name": "1"}}, "custom_units.Bad Name.[key]", "invalid_value"),
        ({"flat_fee": "1"}, "flat_fee", "unknown_field"),
    ],
)
def test_bad_prices_are_refused_with_the_field(
    server: LiveServer, body: dict[str, Any], param: str, code: str
) -> None:
    with server.client() as api:
        create_identity(api, "seller")
        assert_invalid(api.put("/v1/identities/seller/pricing", json=body), param, code)
        assert api.get("/v1/identities/seller/pricing").json()["kinds"] == []


def test_an_agent_key_cannot_set_prices(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "seller")
        key = create_agent_key(api, "seller")
    with server.client(key) as agent:
        assert_error(agent.put("/v1/identities/seller/pricing", json=PLAN), 403, "forbidden")
        assert agent.get("/v1/identities/seller/pricing").status_code == 200


def test_a_send_with_usage_is_priced_and_booked_once_per_unit(server: LiveServer) -> None:
    usage = {
        "tokens_input": 1234,
        "tokens_output": 100,
        "outcomes_returned": 2,
        "compute_ms": 1500,
        "custom_units": {"pages": 3.5},
    }
    with server.client() as api:
        bot = create_identity(api, "bot")
        api.put("/v1/identities/bot/pricing", json=PLAN)
        sent = send_mail(
            api,
            bot,
            ["ana@example.com"],
            "Report",
            usage=usage,
            correlation_id="job-7",
            idempotency_key="send-7",
        )
        entries = ledger(api, correlation_id="job-7")
    assert sent["usage"] == {**usage, "custom_units": {"pages": "3.5"}}
    assert sent["reservation_key"].startswith("rsv_")
    by_unit = {e["unit"]: e for e in entries}
    assert {u: e["amount"] for u, e in by_unit.items()} == {
        "emails_sent": "0",
        "tokens_input": "0.617",  # 1234 / 1000 * 0.5
        "tokens_output": "0.15",
        "outcomes_returned": "0.2",
        "compute_ms": "0.003",  # 1.5 s * 0.002
        "custom.pages": "0.035",
    }
    assert by_unit["tokens_input"]["quantity"] == "1234"
    assert by_unit["emails_sent"]["kind"] == "send"
    assert by_unit["tokens_input"]["kind"] == "usage"
    for entry in entries:
        assert entry["message_id"] == sent["id"]
        assert entry["idempotency_key"] == "send-7"
        assert entry["reservation_key"] == sent["reservation_key"]
        assert entry["currency"] == "USD"
        assert entry["api_key_id"].startswith("key_")


def test_a_retried_send_is_metered_once(server: LiveServer) -> None:
    body = {"to": ["ana@example.com"], "subject": "Once", "usage": {"tokens_input": 1000}}
    with server.client() as api:
        bot = create_identity(api, "bot")
        api.put("/v1/identities/bot/pricing", json=PLAN)
        headers = {"Idempotency-Key": "retry-me"}
        first = api.post(f"/v1/mailboxes/{bot}/messages", json=body, headers=headers)
        again = api.post(f"/v1/mailboxes/{bot}/messages", json=body, headers=headers)
        in_body = api.post(f"/v1/mailboxes/{bot}/messages", json={**body, "idempotency_key": "b"})
        in_body_again = api.post(
            f"/v1/mailboxes/{bot}/messages", json={**body, "idempotency_key": "b"}
        )
        entries = ledger(api, unit="tokens_input")
        summary = api.get("/v1/usage", params={"group_by": "unit", "period": "total"}).json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert in_body_again.json()["id"] == in_body.json()["id"]
    assert len(entries) == 2
    assert summary["totals"]["spend"] == "1"  # 2 sends x 1000 tokens x 0.5 per 1k
    tokens = next(g for g in summary["data"] if g["unit"] == "tokens_input")
    assert tokens["quantity"] == "2000"
    assert tokens["entries"] == 2


def test_amounts_add_up_exactly(server: LiveServer) -> None:
    """Ten sends of a tenth are exactly one, where binary floats would not be."""
    with server.client() as api:
        bot = create_identity(api, "bot")
        api.put("/v1/identities/bot/pricing", json={"per_outcome": "0.1"})
        for _ in range(10):
            send_mail(api, bot, ["ana@example.com"], "Tick", usage={"outcomes_returned": 1})
        api.put("/v1/identities/bot/pricing", json={"custom_units": {"cents": "0.000000001"}})
        send_mail(api, bot, ["ana@example.com"], "Nano", usage={"custom_units": {"cents": "3"}})
        summary = api.get("/v1/usage", params={"group_by": "identity", "period": "total"}).json()
    assert sum(0.1 for _ in range(10)) != 1.0
    assert summary["totals"]["spend"] == "1.000000003"
    [group] = summary["data"]
    assert group["amount"] == "1.000000003"


@pytest.mark.parametrize(
    ("usage", "param", "code"),
    [
        ({"tokens_input": -1}, "usage.tokens_input", "out_of_range"),
        ({"tokens_input": "12"}, "usage.tokens_input", "invalid_type"),
        ({"tokens_output": 1.5}, "usage.tokens_output", "invalid_type"),
        ({"compute_ms": True}, "usage.compute_ms", "invalid_type"),
        ({"tokens": 10}, "usage.tokens", "unknown_field"),
        ({"custom_units": {"pages": -2}}, "usage.custom_units.pages", "invalid_value"),
        ({"custom_units": {"pages": "two"}}, "usage.custom_units.pages", "invalid_value"),
        ({"custom_units": {"pages": [1]}}, "usage.custom_units.pages", "invalid_value"),
    ],
)
def test_bad_usage_is_refused_with_the_exact_param_and_changes_nothing(
    server: LiveServer, usage: dict[str, Any], param: str, code: str
) -> None:
    with server.client() as api:
        bot = create_identity(api, "bot")
        answer = api.post(
            f"/v1/mailboxes/{bot}/messages",
            json={"to": ["ana@example.com"], "subject": "x", "usage": usage},
        )
        assert_invalid(answer, param, code)
        assert api.get(f"/v1/mailboxes/{bot}/messages").json()["data"] == []
        assert ledger(api) == []


def test_usage_and_marketplace_headers_cannot_be_forged(server: LiveServer) -> None:
    with server.client() as api:
        bot = create_identity(api, "bot")
        for name in ("X-Tidings-Usage", "X-Tidings-Marketplace-Charge"):
            answer = api.post(
                f"/v1/mailboxes/{bot}/messages",
                json={"to": ["a@example.com"], "subject": "x", "headers": {name: "1"}},
            )
            assert_error(answer, 422, "reserved_header", f"headers.{name}")


def test_receipts_are_booked_and_received_copies_show_usage(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        send_mail(api, ana, [bob], "Work", usage={"tokens_output": 42})
        [copy] = wait_for(lambda: api.get(f"/v1/mailboxes/{bob}/messages").json()["data"])
        bob_id = api.get("/v1/identities/bob").json()["id"]
        [receipt] = ledger(api, identity=bob_id)
    assert copy["usage"]["tokens_output"] == 42
    assert receipt["unit"] == "emails_received"
    assert receipt["kind"] == "receipt"
    assert receipt["message_id"] == copy["id"]
    assert receipt["api_key_id"] is None


def test_totals_group_by_identity_key_unit_and_period(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        for handle, address in (("ana", ana), ("bob", bob)):
            api.put(f"/v1/identities/{handle}/pricing", json={"per_outcome": "2"})
            send_mail(api, address, ["x@example.com"], "Hi", usage={"outcomes_returned": 1})
        send_mail(api, ana, ["x@example.com"], "Hi", usage={"outcomes_returned": 1})
        by_identity = api.get(
            "/v1/usage", params={"group_by": "identity", "kind": "usage", "period": "day"}
        ).json()
        only_bob = api.get("/v1/usage", params={"identity": "bob", "group_by": "key"}).json()
        hourly = api.get("/v1/usage", params={"period": "hour", "group_by": ["unit", "kind"]})
        bad = api.get("/v1/usage", params={"group_by": "identity,colour"})
    amounts = {g["identity_id"]: g["amount"] for g in by_identity["data"]}
    assert sorted(amounts.values()) == ["2", "4"]
    assert all(g["period_start"].endswith("T00:00:00Z") for g in by_identity["data"])
    assert only_bob["totals"]["spend"] == "2"
    assert [g["api_key_id"] for g in only_bob["data"]] == [only_bob["data"][0]["api_key_id"]]
    assert hourly.status_code == 200
    assert {g["unit"] for g in hourly.json()["data"]} == {"emails_sent", "outcomes_returned"}
    assert_error(bad, 422, "invalid_choice", "group_by[1]")


def test_an_agent_key_sees_only_its_own_usage(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        send_mail(api, ana, ["x@example.com"], "Hi")
        send_mail(api, bob, ["x@example.com"], "Hi")
        key = create_agent_key(api, "bob")
        bob_id = api.get("/v1/identities/bob").json()["id"]
    with server.client(key) as agent:
        entries = ledger(agent)
        summary = agent.get("/v1/usage", params={"group_by": "identity"}).json()
        exported = agent.get("/v1/usage/ledger", params={"format": "jsonl"}).text
    assert {e["identity_id"] for e in entries} == {bob_id}
    assert [g["identity_id"] for g in summary["data"]] == [bob_id]
    assert {json.loads(line)["identity_id"] for line in exported.splitlines()} == {bob_id}


def test_the_ledger_pages_and_exports_as_jsonl_and_csv(server: LiveServer) -> None:
    with server.client() as api:
        bot = create_identity(api, "bot")
        for n in range(3):
            send_mail(api, bot, ["x@example.com"], f"n{n}", usage={"tokens_input": n + 1})
        first = api.get("/v1/usage/ledger", params={"limit": 2}).json()
        second = api.get(
            "/v1/usage/ledger", params={"limit": 2, "cursor": first["pagination"]["next_cursor"]}
        ).json()
        jsonl = api.get("/v1/usage/ledger", params={"format": "jsonl"})
        as_csv = api.get("/v1/usage/ledger", params={"format": "csv", "unit": "tokens_input"})
    paged = [e["id"] for e in first["data"] + second["data"]]
    assert len(paged) == 4
    assert len(set(paged)) == 4
    assert jsonl.headers["content-type"] == "application/x-ndjson"
    assert "attachment" in jsonl.headers["content-disposition"]
    exported = [json.loads(line) for line in jsonl.text.splitlines()]
    assert paged == [e["id"] for e in exported[::-1][:4]]  # newest first, in booking order
    assert len(exported) == 6  # three sends, each emails_sent + tokens_input
    tokens = [e["quantity"] for e in exported if e["unit"] == "tokens_input"]
    assert tokens == ["1", "2", "3"]  # oldest first
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert [r["quantity"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) >= {"id", "identity_id", "api_key_id", "unit", "amount", "currency"}
