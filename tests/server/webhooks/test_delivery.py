"""Webhook deliveries to a real loopback receiver: signed, retried on schedule, recorded.

The server runs on a fake clock, so each retry waits for the test to move time on; the
receiver answers from a script (500s, Retry-After, timeouts, 410) like a flaky endpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import standardwebhooks

from tests.support.api import create_identity, send_mail, wait_for
from tests.support.live import LiveServer, start_server
from tests.support.receiver import Receiver, Step, webhook_receiver
from tidings_server.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def live(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    with start_server(
        database_url=database_url,
        data_dir=tmp_path / "data",
        clock=clock,
        webhook_allow_hosts=("127.0.0.1",),
        webhook_timeout_seconds=1,
        webhook_poll_seconds=0.05,
    ) as server:
        yield server


@pytest.fixture
def api(live: LiveServer) -> Iterator[httpx2.Client]:
    with live.client() as client:
        yield client


def subscribe(api: httpx2.Client, receiver: Receiver, **fields: Any) -> dict[str, Any]:
    answer = api.post(
        "/v1/webhooks/subscriptions",
        json={"url": receiver.url, "event_types": ["message.received"], **fields},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def deliveries(api: httpx2.Client, **params: Any) -> list[dict[str, Any]]:
    answer = api.get("/v1/webhooks/deliveries", params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def wait_attempts(api: httpx2.Client, count: int) -> None:
    """Wait until the server has recorded `count` attempts in all (before moving time on)."""
    wait_for(lambda: sum(len(d["attempts"]) for d in deliveries(api)) == count)


def verified(received: Any, secret: str) -> dict[str, Any]:
    """What the independent Standard Webhooks verifier makes of a request."""
    return dict(standardwebhooks.Webhook(secret).verify(received.body, received.headers))


def mail_to_bob(api: httpx2.Client, subject: str = "hello") -> None:
    send_mail(api, "ana@agents.localhost", ["bob@agents.localhost"], subject)


@pytest.fixture
def agents(api: httpx2.Client) -> None:
    create_identity(api, "ana")
    create_identity(api, "bob")


def test_a_received_message_is_posted_signed_and_recorded(api: httpx2.Client, agents: None) -> None:
    with webhook_receiver(Step(200, body=b"thanks")) as receiver:
        webhook = subscribe(api, receiver, headers={"X-Team": "ops"})
        mail_to_bob(api, "Signed")
        [request] = wait_for(lambda: receiver.requests)
    body = verified(request, webhook["secret"])
    assert set(body) == {"id", "type", "timestamp", "data"}
    assert body["type"] == "message.received"
    assert body["data"]["message"]["subject"] == "Signed"
    assert request.headers["webhook-id"] == body["id"]
    assert request.headers["x-team"] == "ops"
    assert request.headers["content-type"] == "application/json"
    [event] = api.get("/v1/events", params={"types": "message.received"}).json()["data"]
    assert event == json.loads(request.body)
    [delivery] = wait_for(lambda: deliveries(api, status="succeeded"))
    assert delivery["event_id"] == body["id"]
    assert delivery["webhook_id"] == webhook["id"]
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 200
    assert attempt["response_excerpt"] == "thanks"
    assert attempt["latency_ms"] >= 0


def test_failures_are_retried_on_the_schedule_with_the_same_webhook_id(
    api: httpx2.Client, agents: None, clock: FakeClock
) -> None:
    script = [Step(500, body=b"boom"), Step(503, headers={"Retry-After": "600"}), Step(200)]
    with webhook_receiver(*script) as receiver:
        subscribe(api, receiver)
        mail_to_bob(api)
        wait_attempts(api, 1)
        time.sleep(0.3)
        assert len(receiver.requests) == 1  # the next try is 5 s away on the server's clock
        clock.advance(6)
        wait_attempts(api, 2)
        clock.advance(300)  # the schedule says 5 min, but the receiver asked for 10
        time.sleep(0.3)
        assert len(receiver.requests) == 2
        clock.advance(310)
        wait_for(lambda: len(receiver.requests) == 3)
    assert len(set(receiver.event_ids(succeeded_only=False))) == 1
    [delivery] = wait_for(lambda: deliveries(api, status="succeeded"))
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["attempts"][0]["response_excerpt"] == "boom"


def test_a_timeout_is_retried(api: httpx2.Client, agents: None, clock: FakeClock) -> None:
    with webhook_receiver(Step(200, delay=2.5, stall=True), Step(200)) as receiver:
        subscribe(api, receiver)
        mail_to_bob(api)
        wait_for(lambda: deliveries(api) and deliveries(api)[0]["attempts"])
        [pending] = deliveries(api)
        assert pending["status"] == "pending"
        assert pending["attempts"][0]["error"].startswith("timeout")
        assert pending["attempts"][0]["status_code"] is None
        clock.advance(6)
        wait_for(lambda: deliveries(api, status="succeeded"))
    assert len(receiver.succeeded) == 1


def test_a_client_error_is_final(api: httpx2.Client, agents: None, clock: FakeClock) -> None:
    with webhook_receiver(Step(400), Step(200)) as receiver:
        subscribe(api, receiver)
        mail_to_bob(api)
        [failed] = wait_for(lambda: deliveries(api, status="failed"))
        clock.advance(3600)
        time.sleep(0.3)
    assert len(receiver.requests) == 1
    assert [a["status_code"] for a in failed["attempts"]] == [400]


def test_410_gone_disables_the_subscription_and_tells_the_owner(
    api: httpx2.Client, agents: None
) -> None:
    with webhook_receiver(Step(410)) as gone, webhook_receiver(Step(200)) as ops:
        webhook = subscribe(api, gone)
        watcher = subscribe(api, ops, event_types=["webhook.disabled"])
        mail_to_bob(api)
        wait_for(
            lambda: not api.get(f"/v1/webhooks/subscriptions/{webhook['id']}").json()["enabled"]
        )
        shown = api.get(f"/v1/webhooks/subscriptions/{webhook['id']}").json()
        assert "410" in shown["disabled_reason"]
        [told] = api.get("/v1/events", params={"types": "webhook.disabled"}).json()["data"]
        assert told["data"]["webhook_id"] == webhook["id"]
        # Another subscription of the organisation hears about it.
        [heard] = wait_for(lambda: ops.requests)
        assert verified(heard, watcher["secret"]) == told
        mail_to_bob(api, "after")
        time.sleep(0.5)
    assert len(gone.requests) == 1


def test_a_subscription_failing_for_the_whole_window_is_disabled(
    api: httpx2.Client, agents: None, clock: FakeClock
) -> None:
    with webhook_receiver(Step(500)) as receiver:
        webhook = subscribe(api, receiver)
        mail_to_bob(api)
        for attempt in range(1, 11):
            wait_attempts(api, attempt)
            clock.advance(27 * 3600)  # past any wait in the schedule: 24 h + 10 % jitter
        wait_for(
            lambda: not api.get(f"/v1/webhooks/subscriptions/{webhook['id']}").json()["enabled"]
        )
    assert len(receiver.requests) == 10
    [failed] = deliveries(api, status="failed")
    assert len(failed["attempts"]) == 10
    assert (
        "failed for"
        in api.get(f"/v1/webhooks/subscriptions/{webhook['id']}").json()["disabled_reason"]
    )
    assert api.get("/v1/events", params={"types": "webhook.disabled"}).json()["data"]


def test_replay_resends_with_the_same_webhook_id(api: httpx2.Client, agents: None) -> None:
    with webhook_receiver(Step(200)) as receiver:
        webhook = subscribe(api, receiver)
        mail_to_bob(api)
        [done] = wait_for(lambda: deliveries(api, status="succeeded"))
        replay = api.post(f"/v1/webhooks/deliveries/{done['id']}/replay")
        assert replay.status_code == 202, replay.text
        assert replay.json()["replay_of"] == done["id"]
        wait_for(lambda: len(receiver.requests) == 2)
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert verified(again, webhook["secret"])["id"] == done["event_id"]


def test_the_test_endpoint_sends_webhook_test_to_that_subscription_only(
    api: httpx2.Client,
) -> None:
    with webhook_receiver(Step(200)) as receiver:
        webhook = subscribe(api, receiver)
        other = subscribe(api, receiver, event_types=["webhook.test"])
        answer = api.post(f"/v1/webhooks/subscriptions/{webhook['id']}/test")
        assert answer.status_code == 202, answer.text
        assert answer.json()["webhook_id"] == webhook["id"]
        [request] = wait_for(lambda: receiver.requests)
        time.sleep(0.3)
    body = verified(request, webhook["secret"])
    assert body["type"] == "webhook.test"
    assert body["data"]["webhook_id"] == webhook["id"]
    assert len(receiver.requests) == 1, "the other subscription got nothing"
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        verified(request, other["secret"])


def test_after_rotation_both_secrets_verify_until_the_grace_ends(
    api: httpx2.Client, agents: None, clock: FakeClock
) -> None:
    with webhook_receiver(Step(200)) as receiver:
        webhook = subscribe(api, receiver)
        path = f"/v1/webhooks/subscriptions/{webhook['id']}"
        new = api.post(f"{path}/rotate-secret", json={"grace_period_seconds": 600}).json()
        mail_to_bob(api, "during")
        [during] = wait_for(lambda: receiver.requests)
        wait_attempts(api, 1)
        clock.advance(601)
        mail_to_bob(api, "after")
        wait_for(lambda: len(receiver.requests) == 2)
    assert len(during.headers["webhook-signature"].split()) == 2
    assert verified(during, webhook["secret"]) == verified(during, new["secret"])
    after = receiver.requests[1]
    assert verified(after, new["secret"])["data"]["message"]["subject"] == "after"
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        verified(after, webhook["secret"])


def test_events_of_a_mailbox_arrive_in_order_despite_failures(
    api: httpx2.Client, agents: None, clock: FakeClock
) -> None:
    script = [Step(500), Step(200), Step(503), Step(200)]
    with webhook_receiver(*script) as receiver:
        subscribe(api, receiver, mailbox="bob@agents.localhost")
        for n in range(4):
            mail_to_bob(api, f"note {n}")
        wait_attempts(api, 1)  # note 0 failed; the rest wait behind it
        clock.advance(6)
        wait_attempts(api, 3)  # note 0 arrived, note 1 failed
        clock.advance(6)
        wait_for(lambda: len(receiver.succeeded) == 4)
    logged = api.get("/v1/events", params={"mailbox": "bob@agents.localhost"}).json()["data"]
    assert receiver.event_ids() == [e["id"] for e in logged]
    subjects = [json.loads(r.body)["data"]["message"]["subject"] for r in receiver.succeeded]
    assert subjects == [f"note {n}" for n in range(4)]


def test_deliveries_held_back_by_a_failure_keep_their_first_attempt(
    api: httpx2.Client, agents: None, clock: FakeClock
) -> None:
    # Notes 1-3 queue behind note 0 and go out together once it arrives, until note 2 fails;
    # note 3 is handed back unsent, so its own first failure waits the first retry's 5 s.
    script = [Step(500), Step(200), Step(200), Step(500), Step(200), Step(500), Step(200)]
    with webhook_receiver(*script) as receiver:
        subscribe(api, receiver, mailbox="bob@agents.localhost")
        for n in range(4):
            mail_to_bob(api, f"note {n}")
        wait_attempts(api, 1)
        clock.advance(6)
        wait_attempts(api, 4)
        time.sleep(0.3)
        [waiting] = [d for d in deliveries(api) if not d["attempts"]]
        assert waiting["status"] == "pending"
        clock.advance(6)
        wait_attempts(api, 6)
        clock.advance(6)
        wait_for(lambda: len(receiver.succeeded) == 4)
    tried = [json.loads(r.body)["data"]["message"]["subject"] for r in receiver.requests]
    assert tried == ["note 0", "note 0", "note 1", "note 2", "note 2", "note 3", "note 3"]
    # A run's attempts are recorded together; each lands on its own delivery, in order.
    subject_of = {r.headers["webhook-id"]: json.loads(r.body)["data"]["message"]["subject"]
                  for r in receiver.requests}  # fmt: skip
    codes = {
        subject_of[d["event_id"]]: [a["status_code"] for a in d["attempts"]]
        for d in deliveries(api)
    }
    assert codes == {
        "note 0": [500, 200],
        "note 1": [200],
        "note 2": [500, 200],
        "note 3": [500, 200],
    }
    assert {d["status"] for d in deliveries(api)} == {"succeeded"}


def test_a_slow_endpoint_holds_up_only_its_own_subscription(
    database_url: str, tmp_path: Path
) -> None:
    with (
        start_server(
            database_url=database_url,
            data_dir=tmp_path / "data",
            webhook_allow_hosts=("127.0.0.1",),
            webhook_timeout_seconds=30,
            webhook_poll_seconds=0.05,
        ) as server,
        server.client() as api,
        webhook_receiver(Step(200, delay=8)) as slow,
        webhook_receiver(Step(200)) as fast,
    ):
        create_identity(api, "ana")
        create_identity(api, "bob")
        subscribe(api, slow)
        subscribe(api, fast)
        for n in range(3):
            mail_to_bob(api, f"note {n}")
        # The slow endpoint is still answering its first request meanwhile.
        wait_for(lambda: len(fast.succeeded) == 3, timeout=7)
        assert len(slow.requests) == 1


def test_a_mailbox_subscription_hears_only_that_mailbox(api: httpx2.Client, agents: None) -> None:
    with webhook_receiver(Step(200)) as receiver:
        subscribe(api, receiver, mailbox="ana@agents.localhost")
        mail_to_bob(api, "not for ana")
        send_mail(api, "bob@agents.localhost", ["ana@agents.localhost"], "for ana")
        wait_for(lambda: receiver.requests)
        time.sleep(0.3)
    [only] = receiver.requests
    assert json.loads(only.body)["data"]["message"]["subject"] == "for ana"
