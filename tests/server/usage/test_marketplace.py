"""Marketplace: a buyer's request holds its budget; the seller's answer settles it at the
seller's prices, capped by the budget; both sides get ledger entries and events."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.support.api import assert_error, create_agent_key, create_identity, wait_for
from tests.support.live import LiveServer, free_port, start_server
from tidings_server.clock import FakeClock

SELLER_PRICES = {"tokens_input_per_1k": "0.5", "tokens_output_per_1k": "2", "per_outcome": "0.25"}
WORK = {"tokens_input": 1000, "tokens_output": 500, "outcomes_returned": 1}  # 0.5 + 1 + 0.25


def ask(api: httpx2.Client, buyer: str, seller: str, budget: str, **fields: Any) -> dict:
    answer = api.post(
        f"/v1/mailboxes/{buyer}/marketplace/requests",
        json={
            "to": [seller],
            "subject": "Summarise this",
            "body_text": "...",
            "budget": budget,
            **fields,
        },
    )
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def answer(api: httpx2.Client, seller: str, request_id: str, **fields: Any) -> httpx2.Response:
    return api.post(
        f"/v1/mailboxes/{seller}/marketplace/responses",
        json={"marketplace_request_id": request_id, "body_text": "Done.", **fields},
    )


def requests(api: httpx2.Client, **params: Any) -> list[dict[str, Any]]:
    return list(api.get("/v1/marketplace/requests", params=params).json()["data"])


def events(api: httpx2.Client, kind: str, mailbox: str) -> list[dict[str, Any]]:
    found = api.get("/v1/events", params={"types": kind, "mailbox": mailbox}).json()
    return list(found["data"])


def ledger(api: httpx2.Client, **params: Any) -> list[dict[str, Any]]:
    return list(api.get("/v1/usage/ledger", params={"limit": 100, **params}).json()["data"])


def settled(api: httpx2.Client, role: str, request_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found = requests(api, role=role, marketplace_request_id=request_id)
        return found[0] if found and found[0]["status"] == "settled" else None

    result: dict[str, Any] = wait_for(check)
    return result


def test_a_request_is_held_answered_and_settled_on_one_server(server: LiveServer) -> None:
    with server.client() as api:
        buyer = create_identity(api, "buyer")
        seller = create_identity(api, "seller")
        api.put("/v1/identities/seller/pricing", json=SELLER_PRICES)
        sent = ask(api, buyer, seller, "5", correlation_id="job-1")
        request_id = sent["marketplace_request_id"]
        [held] = requests(api, role="buyer")
        [received] = wait_for(lambda: events(api, "marketplace.request_received", seller))
        copy = api.get(f"/v1/mailboxes/{seller}/messages").json()["data"][0]
        response = answer(api, seller, request_id, usage=WORK)
        assert response.status_code == 202, response.text
        buyer_side = settled(api, "buyer", request_id)
        [buyer_settled] = wait_for(lambda: events(api, "marketplace.settled", buyer))
        [seller_settled] = events(api, "marketplace.settled", seller)
        charges = ledger(api, kind="marketplace_charge")
        earnings = ledger(api, kind="marketplace_earning")
        reply = wait_for(
            lambda: [
                m
                for m in api.get(f"/v1/mailboxes/{buyer}/messages").json()["data"]
                if m["direction"] == "inbound"
            ]
        )[0]
    assert request_id.startswith("mkt_")
    assert sent["reservation_key"] == sent["marketplace_request"]["reservation_key"]
    assert sent["correlation_id"] == "job-1"
    assert held["status"] == "held"
    assert held["budget"] == "5"
    assert copy["marketplace_request_id"] == request_id
    assert received["data"]["marketplace_request"]["budget"] == "5"
    assert received["data"]["marketplace_request"]["counterparty"] == buyer
    assert received["data"]["message"]["id"] == copy["id"]
    assert response.json()["marketplace_request"]["status"] == "settled"
    assert response.json()["marketplace_request"]["charged"] == "1.75"
    assert buyer_side["charged"] == "1.75"
    assert buyer_side["released"] == "3.25"
    assert buyer_side["response_message_id"] == reply["id"]
    assert reply["marketplace_request_id"] == request_id
    assert reply["usage"]["tokens_output"] == 500
    assert buyer_settled["data"]["marketplace_request"]["charged"] == "1.75"
    assert seller_settled["data"]["marketplace_request"]["role"] == "seller"
    assert {e["unit"]: e["amount"] for e in charges} == {
        "tokens_input": "0.5",
        "tokens_output": "1",
        "outcomes_returned": "0.25",
    }
    assert {e["unit"]: e["amount"] for e in earnings} == {e["unit"]: e["amount"] for e in charges}
    assert {e["reservation_key"] for e in charges} == {sent["reservation_key"]}
    assert {e["correlation_id"] for e in charges} == {"job-1"}
    assert {e["marketplace_request_id"] for e in charges + earnings} == {request_id}


def test_the_charge_is_capped_by_the_budget(server: LiveServer) -> None:
    with server.client() as api:
        buyer = create_identity(api, "buyer")
        seller = create_identity(api, "seller")
        api.put("/v1/identities/seller/pricing", json=SELLER_PRICES)
        request_id = ask(api, buyer, seller, "1.2", marketplace_request_id="job-77")[
            "marketplace_request_id"
        ]
        wait_for(lambda: requests(api, role="seller"))
        response = answer(api, seller, request_id, usage=WORK)
        buyer_side = settled(api, "buyer", request_id)
        spend = api.get("/v1/usage", params={"identity": "buyer", "period": "total"}).json()
        earned = api.get("/v1/usage", params={"identity": "seller", "period": "total"}).json()
        caps = ledger(api, unit="budget_cap")
    assert request_id == "job-77"
    assert response.json()["marketplace_request"]["charged"] == "1.2"
    assert buyer_side["charged"] == "1.2"
    assert buyer_side["released"] == "0"
    assert spend["totals"]["spend"] == "1.2"
    assert earned["totals"]["earnings"] == "1.2"
    assert sorted(c["amount"] for c in caps) == ["-0.55", "-0.55"]  # both sides, 1.75 - 1.2


def test_unknown_foreign_and_settled_requests_are_refused(server: LiveServer) -> None:
    with server.client() as api:
        buyer = create_identity(api, "buyer")
        seller = create_identity(api, "seller")
        other = create_identity(api, "other")
        request_id = ask(api, buyer, seller, "1")["marketplace_request_id"]
        wait_for(lambda: requests(api, role="seller"))
        unknown = answer(api, seller, "mkt_nope")
        foreign = answer(api, other, request_id)
        first = answer(api, seller, request_id)
        again = answer(api, seller, request_id)
        taken = api.post(
            f"/v1/mailboxes/{buyer}/marketplace/requests",
            json={
                "to": [seller],
                "subject": "x",
                "budget": "1",
                "marketplace_request_id": request_id,
            },
        )
        two = api.post(
            f"/v1/mailboxes/{buyer}/marketplace/requests",
            json={"to": [seller, other], "subject": "x", "budget": "1"},
        )
        mine = api.post(
            f"/v1/mailboxes/{buyer}/marketplace/requests",
            json={"to": [buyer], "subject": "x", "budget": "1"},
        )
        negative = api.post(
            f"/v1/mailboxes/{buyer}/marketplace/requests",
            json={"to": [seller], "subject": "x", "budget": "-1"},
        )
        outbound = [
            m
            for m in api.get(f"/v1/mailboxes/{buyer}/messages").json()["data"]
            if m["direction"] == "outbound"
        ]
    assert_error(unknown, 404, "marketplace_request_not_found", "marketplace_request_id")
    assert_error(foreign, 404, "marketplace_request_not_found", "marketplace_request_id")
    assert first.status_code == 202
    assert_error(again, 409, "marketplace_request_settled", "marketplace_request_id")
    assert_error(taken, 409, "marketplace_request_exists", "marketplace_request_id")
    assert_error(two, 422, "invalid_marketplace_recipients", "to")
    assert_error(mine, 422, "invalid_marketplace_recipients", "to")
    assert_error(negative, 422, "validation_error", "budget")
    assert len(outbound) == 1  # refused requests sent nothing


def test_an_agent_key_answers_only_its_own_requests(server: LiveServer) -> None:
    with server.client() as api:
        buyer = create_identity(api, "buyer")
        seller = create_identity(api, "seller")
        other = create_identity(api, "other")
        other_key = create_agent_key(api, "other")
        request_id = ask(api, buyer, seller, "1")["marketplace_request_id"]
        wait_for(lambda: requests(api, role="seller"))
    with server.client(other_key) as agent:
        assert requests(agent) == []
        assert_error(answer(agent, seller, request_id), 404, "not_found")
        assert_error(answer(agent, other, request_id), 404, "marketplace_request_not_found")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    with start_server(
        database_url=database_url,
        data_dir=tmp_path / "data",
        clock=clock,
        marketplace_reservation_seconds=600,
        marketplace_sweep_seconds=0.1,
    ) as live:
        yield live


def test_a_hold_counts_as_spend_and_expires_unanswered(timed: LiveServer, clock: FakeClock) -> None:
    with timed.client() as api:
        buyer = create_identity(api, "buyer")
        seller = create_identity(api, "seller")
        api.put("/v1/identities/buyer/quotas", json={"spend_per_day": "1"})
        request_id = ask(api, buyer, seller, "0.8")["marketplace_request_id"]
        over = api.post(
            f"/v1/mailboxes/{buyer}/marketplace/requests",
            json={"to": [seller], "subject": "more", "budget": "0.5"},
        )
        wait_for(lambda: requests(api, role="seller"))
        clock.advance(601)
        [expired] = wait_for(lambda: events(api, "marketplace.expired", buyer))
        late = answer(api, seller, request_id, usage=WORK)
        after = api.post(
            f"/v1/mailboxes/{buyer}/marketplace/requests",
            json={"to": [seller], "subject": "again", "budget": "0.9"},
        )
        [buyer_side] = requests(api, role="buyer", marketplace_request_id=request_id)
    error = assert_error(over, 402, "spend_limit_exceeded")
    assert error["limit"]["used"] == "0.8"
    assert expired["data"]["marketplace_request"]["status"] == "expired"
    assert expired["data"]["marketplace_request"]["released"] == "0.8"
    assert_error(late, 409, "marketplace_request_expired", "marketplace_request_id")
    assert after.status_code == 202  # the expired hold no longer counts
    assert buyer_side["status"] == "expired"


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """A buyer's Tidings and a seller's, each relaying mail for the other's domain to it."""
    smtp_a, smtp_b = free_port(), free_port()
    with (
        start_server(
            database_url=f"sqlite:///{tmp_path / 'a.db'}",
            data_dir=tmp_path / "a",
            domain="a.localhost",
            smtp=f"127.0.0.1:{smtp_a}",
            outbound=f"relay://127.0.0.1:{smtp_b}",
        ) as buyer_side,
        start_server(
            database_url=database_url,
            data_dir=tmp_path / "b",
            domain="b.localhost",
            smtp=f"127.0.0.1:{smtp_b}",
            outbound=f"relay://127.0.0.1:{smtp_a}",
        ) as seller_side,
    ):
        yield buyer_side, seller_side


def test_buyer_and_seller_settle_over_real_smtp_between_two_servers(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    buyer_server, seller_server = two_servers
    with buyer_server.client() as buyers, seller_server.client() as sellers:
        buyer = create_identity(buyers, "buyer")
        seller = create_identity(sellers, "seller")
        sellers.put("/v1/identities/seller/pricing", json=SELLER_PRICES)
        sent = ask(buyers, buyer, seller, "2.5", correlation_id="ticket-9")
        request_id = sent["marketplace_request_id"]
        [opened] = wait_for(lambda: requests(sellers, role="seller"))
        [copy] = sellers.get(f"/v1/mailboxes/{seller}/messages").json()["data"]
        response = answer(sellers, seller, request_id, usage=WORK)
        assert response.status_code == 202, response.text
        buyer_side = settled(buyers, "buyer", request_id)
        charges = ledger(buyers, kind="marketplace_charge")
        earnings = ledger(sellers, kind="marketplace_earning")
        [told] = events(buyers, "marketplace.settled", buyer)
        outbound = buyers.get(f"/v1/mailboxes/{buyer}/messages/{sent['id']}").json()
    assert buyer.endswith("@a.localhost")
    assert seller.endswith("@b.localhost")
    assert outbound["status"] == "sent"  # relayed to the seller's server over SMTP
    assert opened["budget"] == "2.5"
    assert opened["counterparty"] == buyer
    assert copy["marketplace_request_id"] == request_id
    assert copy["correlation_id"] == "ticket-9"
    assert buyer_side["charged"] == "1.75"
    assert buyer_side["released"] == "0.75"
    assert told["data"]["marketplace_request"]["reservation_key"] == sent["reservation_key"]
    assert sorted((e["unit"], e["amount"]) for e in charges) == sorted(
        (e["unit"], e["amount"]) for e in earnings
    )
    assert sum(float(e["amount"]) for e in charges) == pytest.approx(1.75)
    assert {e["correlation_id"] for e in charges} == {"ticket-9"}


def _answer_mail(to: str, request_id: str, *, sender: str, in_reply_to: str | None) -> bytes:
    threading = (
        f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    )
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Re: work\r\n{threading}"
        f"Message-ID: <{uuid.uuid4().hex}@example.com>\r\n"
        f"X-Tidings-Marketplace-Request-Id: {request_id}\r\n"
        "X-Tidings-Marketplace-Charge: 0.3 USD\r\n"
        "X-Tidings-Usage: outcomes_returned=1; amount=0.3\r\n\r\nDone.\r\n"
    ).encode()


def test_only_the_seller_answering_the_request_itself_settles_it(server: LiveServer) -> None:
    """A seller anywhere (not only on Tidings) settles by answering the request over SMTP;
    mail from anyone else, or not in reply to the request, is only mail."""
    with server.client() as api:
        buyer = create_identity(api, "buyer")
        sent = ask(api, buyer, "seller@example.com", "1")
        request_id = sent["marketplace_request_id"]
        host, port = server.smtp_address
        with smtplib.SMTP(host, port) as smtp:
            for sender, parent in (
                ("mallory@example.com", sent["rfc_message_id"]),  # not the seller
                ("seller@example.com", None),  # not a reply to the request
                ("seller@example.com", "<other@example.com>"),  # a reply to something else
            ):
                smtp.sendmail(
                    sender,
                    [buyer],
                    _answer_mail(buyer, request_id, sender=sender, in_reply_to=parent),
                )
            wait_for(lambda: len(api.get(f"/v1/mailboxes/{buyer}/messages").json()["data"]) == 4)
            [still] = requests(api, role="buyer")
            smtp.sendmail(
                "seller@example.com",
                [buyer],
                _answer_mail(
                    buyer,
                    request_id,
                    sender="seller@example.com",
                    in_reply_to=sent["rfc_message_id"],
                ),
            )
        done = settled(api, "buyer", request_id)
        charges = ledger(api, kind="marketplace_charge")
    assert still["status"] == "held"
    assert done["charged"] == "0.3"
    assert [(c["unit"], c["amount"]) for c in charges] == [("outcomes_returned", "0.3")]
