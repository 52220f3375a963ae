"""Killing the server in the middle of a webhook delivery loses no event.

A real `tidings serve` process is SIGKILLed while the receiver is still holding a request;
after a restart on the same database the lease runs out and every event arrives, at least
once, in order per mailbox, with a valid signature.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx2
import standardwebhooks

from tests.support.api import create_identity, send_mail, wait_for
from tests.support.live import free_port
from tests.support.process import serve_process
from tests.support.receiver import Step, webhook_receiver

ENV = {
    "TIDINGS_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
    "TIDINGS_WEBHOOK_LEASE_SECONDS": "2",
    "TIDINGS_WEBHOOK_POLL_SECONDS": "0.05",
}


def received_events(api: httpx2.Client) -> list[dict[str, Any]]:
    answer = api.get("/v1/events", params={"types": "message.received"})
    return list(answer.json()["data"])


def test_no_event_is_lost_when_the_server_dies_mid_delivery(
    database_url: str, tmp_path: Path
) -> None:
    data_dir, port = tmp_path / "data", free_port()
    # The first request hangs until the server is gone; everything after succeeds.
    with webhook_receiver(Step(200, delay=3, stall=True), Step(200)) as receiver:
        with serve_process(data_dir, database_url=database_url, env=ENV, port=port) as first:
            with first.client() as api:
                create_identity(api, "ana")
                bob = create_identity(api, "bob")
                webhook = api.post(
                    "/v1/webhooks/subscriptions",
                    json={"url": receiver.url, "event_types": ["message.received"]},
                ).json()
                for n in range(3):
                    send_mail(api, "ana@agents.localhost", [bob], f"note {n}")
                logged = wait_for(lambda: len(found := received_events(api)) == 3 and found)
                wait_for(lambda: receiver.requests)
            first.stop(signal.SIGKILL)

        with (
            serve_process(data_dir, database_url=database_url, env=ENV, port=port) as second,
            second.client() as api,
        ):
            wait_for(lambda: len(receiver.succeeded) >= 3, timeout=60)
            delivered = api.get("/v1/webhooks/deliveries", params={"status": "succeeded"})
            assert len(delivered.json()["data"]) == 3

    event_ids = [e["id"] for e in logged]
    firsts = list(dict.fromkeys(receiver.event_ids()))
    assert firsts == event_ids  # every event, in the order of the log
    assert receiver.event_ids(succeeded_only=False)[0] == event_ids[0]  # the one cut off
    verifier = standardwebhooks.Webhook(webhook["secret"])
    for request in receiver.succeeded:
        assert (
            verifier.verify(request.body, request.headers)["id"] == json.loads(request.body)["id"]
        )
