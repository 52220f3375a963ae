"""GET /v1/events: the ordered log, read with `after`, cursors and filters, inside one's scope."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.support.api import (
    assert_error,
    create_agent_key,
    create_identity,
    send_mail,
    wait_for,
)
from tests.support.live import LiveServer


def events(api: httpx2.Client, **params: Any) -> list[dict[str, Any]]:
    answer = api.get("/v1/events", params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def types_of(found: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in found]


def test_an_internal_send_is_told_as_delivered_and_received(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana", display_name="Ana")
        bob = create_identity(api, "bob")
        sent = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={"to": [bob, "carol@example.com"], "subject": "Plans", "body_text": "Hi all",
                  "correlation_id": "job-7"},
            headers={"Idempotency-Key": "send-7"},
        ).json()  # fmt: skip
        found = wait_for(lambda: len(events(api)) >= 3 and events(api))
    assert sorted(types_of(found)) == ["message.delivered", "message.received", "message.sent"]
    for event in found:
        assert event["id"].startswith("evt_")
        assert event["timestamp"].endswith("Z")
        assert set(event) == {"id", "type", "timestamp", "data"}
    [received] = [e for e in found if e["type"] == "message.received"]
    data = received["data"]
    assert data["message"]["mailbox"] == bob
    assert data["message"]["subject"] == "Plans"
    assert data["message"]["body_text"].startswith("Hi")
    assert data["message"]["body_truncated"] is False
    assert data["thread"]["id"] == data["message"]["thread_id"]
    assert {a["address"] for a in data["agent_identities"]} == {ana, bob}
    assert [c["address"] for c in data["contacts"]] == ["carol@example.com"]
    # The outcome events of a send point back to it.
    [delivered] = [e for e in found if e["type"] == "message.delivered"]
    assert delivered["data"]["message"]["id"] == sent["id"]
    assert delivered["data"]["message"]["thread_id"] == sent["thread_id"]
    assert delivered["data"]["correlation_id"] == "job-7"
    assert delivered["data"]["idempotency_key"] == "send-7"
    assert delivered["data"]["delivery"]["recipient"] == bob


def test_the_log_reads_after_an_event_and_by_cursor_in_order(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        for n in range(3):
            send_mail(api, ana, [bob], f"note {n}")
        everything = wait_for(lambda: len(events(api)) == 6 and events(api))
        ids = [e["id"] for e in everything]
        assert [e["id"] for e in events(api, after=ids[1])] == ids[2:]
        assert events(api, after=ids[-1]) == []
        first = api.get("/v1/events", params={"limit": 4}).json()
        assert [e["id"] for e in first["data"]] == ids[:4]
        rest = api.get(
            "/v1/events", params={"limit": 4, "cursor": first["pagination"]["next_cursor"]}
        ).json()
        assert [e["id"] for e in rest["data"]] == ids[4:]
        assert rest["pagination"] == {"has_more": False, "next_cursor": None}


def test_filters_by_type_and_mailbox(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        send_mail(api, ana, [bob], "hello")
        wait_for(lambda: len(events(api)) == 2)
        assert types_of(events(api, types="message.received")) == ["message.received"]
        assert len(events(api, types="message.received,message.delivered")) == 2
        assert len(events(api, types=["message.received", "message.delivered"])) == 2
        assert types_of(events(api, mailbox=ana)) == ["message.delivered"]
        assert types_of(events(api, mailbox=bob)) == ["message.received"]
        assert events(api, mailbox=bob, types="message.delivered") == []


def test_bad_filters_are_clear_errors(server: LiveServer) -> None:
    with server.client() as api:
        assert_error(
            api.get("/v1/events", params={"types": "message.recieved"}),
            422,
            "unknown_event_type",
            "types",
        )
        assert_error(
            api.get("/v1/events", params={"after": "evt_nope"}), 404, "event_not_found", "after"
        )
        assert_error(
            api.get("/v1/events", params={"mailbox": "nobody@agents.localhost"}), 404, "not_found"
        )


def test_an_agent_key_sees_only_its_own_identitys_events(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        send_mail(api, ana, [bob], "for bob")
        everything = wait_for(lambda: len(events(api)) == 2 and events(api))
        bob_key = create_agent_key(api, "bob")
    with server.client(bob_key) as as_bob:
        assert types_of(events(as_bob)) == ["message.received"]
        ana_event = next(e for e in everything if e["type"] == "message.delivered")
        # Someone else's event is not even a valid place to continue from.
        assert_error(
            as_bob.get("/v1/events", params={"after": ana_event["id"]}), 404, "event_not_found"
        )
        assert_error(as_bob.get("/v1/events", params={"mailbox": ana}), 404, "not_found")


def test_the_catalogue_lists_every_event_type(server: LiveServer) -> None:
    with server.client() as api:
        catalogue = api.get("/v1/events/types").json()["data"]
    names = [entry["type"] for entry in catalogue]
    assert "message.received" in names
    assert "webhook.disabled" in names
    assert all(entry["description"] for entry in catalogue)


def test_long_bodies_are_capped_in_events(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        send_mail(api, ana, [bob], "long", body_text="x" * 100_000)
        [event] = wait_for(lambda: events(api, types="message.received"))
        message = event["data"]["message"]
        assert message["body_truncated"] is True
        assert len(message["body_text"]) == 64 * 1024
        # The whole body is one GET away.
        full = api.get(f"/v1/mailboxes/{bob}/messages/{message['id']}").json()
        assert len(full["body_text"].rstrip()) == 100_000
