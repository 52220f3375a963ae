"""Sending: POST /v1/mailboxes/{address}/messages queues mail; the worker delivers it."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx2
import pytest

from tests.support.api import create_identity, wait_for
from tests.support.live import LiveServer


def messages(api: httpx2.Client, address: str, **params: Any) -> list[dict]:
    return list(api.get(f"/v1/mailboxes/{address}/messages", params=params).json()["data"])


def test_a_send_between_hosted_agents_is_delivered_internally(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana", display_name="Ana Agent")
        bob = create_identity(api, "bob")
        sent = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={
                "to": [bob],
                "subject": "Grüße",
                "body_text": "Hello Bob",
                "body_html": "<p>Hello <b>Bob</b></p>",
            },
        )
        assert sent.status_code == 202, sent.text
        outbound = sent.json()
        assert outbound["status"] == "queued"
        assert outbound["direction"] == "outbound"
        assert sent.headers["Location"].endswith(outbound["id"])
        [received] = wait_for(lambda: messages(api, bob))
        full = api.get(f"/v1/mailboxes/{bob}/messages/{received['id']}").json()
        delivered = wait_for(
            lambda: (
                (m := api.get(f"/v1/mailboxes/{ana}/messages/{outbound['id']}").json())["status"]
                == "delivered"
                and m
            )
        )
    assert full["subject"] == "Grüße"
    assert full["from"] == {"name": "Ana Agent", "address": ana}
    assert full["body_text"].strip() == "Hello Bob"
    assert "<b>Bob</b>" in full["body_html"]
    assert full["rfc_message_id"] == outbound["rfc_message_id"]
    assert outbound["rfc_message_id"].endswith("@agents.localhost>")
    assert delivered["status"] == "delivered"


def test_mail_to_outside_is_captured_and_never_leaves(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        sent = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={"to": ["someone@example.com"], "subject": "Hi", "body_text": "x"},
        ).json()
        captured = wait_for(
            lambda: (
                (m := api.get(f"/v1/mailboxes/{ana}/messages/{sent['id']}").json())["status"]
                == "captured"
                and m
            )
        )
    assert captured["to"] == [{"name": "", "address": "someone@example.com"}]


def test_bcc_recipients_receive_but_are_not_in_the_headers(server: LiveServer) -> None:
    with server.client() as api:
        ana, bob, eve = (create_identity(api, h) for h in ("ana", "bob", "eve"))
        api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={"to": [bob], "bcc": [eve], "subject": "Quiet", "body_text": "psst"},
        )
        [copy] = wait_for(lambda: messages(api, eve))
        raw = api.get(f"/v1/mailboxes/{eve}/messages/{copy['id']}/raw").content
    assert b"Bcc" not in raw
    assert eve.encode() not in raw.split(b"\r\n\r\n")[0]


def test_attachments_and_inline_images_arrive_intact(server: LiveServer) -> None:
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 10
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        answer = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={
                "to": [bob],
                "subject": "Files",
                "body_html": '<p>Logo: <img src="cid:logo"></p>',
                "attachments": [
                    {"filename": "Bericht März.pdf", "content_type": "application/pdf",
                     "content_base64": base64.b64encode(pdf).decode()},
                    {"filename": "logo.png", "content_type": "image/png", "content_id": "logo",
                     "content_base64": base64.b64encode(png).decode()},
                ],
            },
        )  # fmt: skip
        assert answer.status_code == 202, answer.text
        [copy] = wait_for(lambda: messages(api, bob))
        parts = {a["filename"]: a for a in copy["attachments"]}
        base = f"/v1/mailboxes/{bob}/messages/{copy['id']}/attachments/"
        pdf_back = api.get(base + parts["Bericht März.pdf"]["id"]).content
        png_back = api.get(base + parts["logo.png"]["id"]).content
    assert pdf_back == pdf
    assert png_back == png
    assert parts["logo.png"]["inline"] is True
    assert parts["logo.png"]["content_id"] == "logo"


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("subject", "Hello\r\nBcc: evil@example.com", "subject"),
        ("subject", "=?utf-8?q?x=0D=0ABcc:_evil@example.com?=", "subject"),
        ("headers", {"X-Note": "a\nBcc: evil@example.com"}, "headers"),
        ("to", ["bob@agents.localhost\r\nBcc: evil@example.com"], "to"),
    ],
)
def test_header_injection_is_refused_cve_2024_6923(
    server: LiveServer, field: str, value: Any, param: str
) -> None:
    """CR, LF or NUL in any header value, raw or inside an encoded word, is a 422."""
    with server.client() as api:
        ana = create_identity(api, "ana")
        create_identity(api, "bob")
        body = {"to": ["bob@agents.localhost"], "subject": "ok", "body_text": "x", field: value}
        answer = api.post(f"/v1/mailboxes/{ana}/messages", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["param"].startswith(param)
        assert messages(api, ana) == []
        assert messages(api, "bob@agents.localhost") == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"to": ["not-an-address"], "subject": "x", "body_text": "x"}, "to"),
        ({"to": [], "subject": "x", "body_text": "x"}, "to"),
        ({"to": ["bob@agents.localhost"], "body_text": "x"}, "subject"),
        (
            {"to": ["bob@agents.localhost"], "subject": "x", "attachments": [
                {"filename": "a.bin", "content_base64": "%%%not base64"}]},
            "attachments[0].content_base64",
        ),
    ],
)  # fmt: skip
def test_invalid_sends_are_refused_and_store_nothing(
    server: LiveServer, body: dict, param: str
) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        answer = api.post(f"/v1/mailboxes/{ana}/messages", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["param"].startswith(param)
        assert messages(api, ana) == []


def test_a_retried_send_answers_with_the_first_send(server: LiveServer) -> None:
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        body = {"to": [bob], "subject": "Once", "body_text": "x", "idempotency_key": "job-42"}
        first = api.post(f"/v1/mailboxes/{ana}/messages", json=body)
        again = api.post(
            f"/v1/mailboxes/{ana}/messages", json=body, headers={"Idempotency-Key": "job-42"}
        )
        mismatch = api.post(
            f"/v1/mailboxes/{ana}/messages", json=body, headers={"Idempotency-Key": "other"}
        )
        wait_for(lambda: messages(api, bob))
        time.sleep(0.5)
        copies = messages(api, bob)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["code"] == "idempotency_key_mismatch"
    assert len(copies) == 1


def test_an_agent_key_sends_only_from_its_own_mailbox(server: LiveServer) -> None:
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        key = api.post("/v1/api-keys", json={"name": "a", "identity_id": "ana"}).json()["key"]
    with server.client(key) as agent:
        own = agent.post(
            f"/v1/mailboxes/{ana}/messages", json={"to": [bob], "subject": "s", "body_text": "b"}
        )
        other = agent.post(
            f"/v1/mailboxes/{bob}/messages", json={"to": [ana], "subject": "s", "body_text": "b"}
        )
    assert own.status_code == 202
    assert other.status_code == 404


def test_a_paused_identity_cannot_send(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        api.patch("/v1/identities/ana", json={"status": "paused"})
        answer = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={"to": ["x@example.com"], "subject": "s", "body_text": "b"},
        )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "identity_paused"


def test_a_senders_new_name_and_pause_apply_to_the_very_next_send(server: LiveServer) -> None:
    # Who sends from an address is remembered for a couple of seconds between sends; a
    # change through the API must still reach the next send, not one a while later.
    with server.client() as api:
        ana, bob = create_identity(api, "ana", display_name="Ana"), create_identity(api, "bob")

        def send(subject: str) -> httpx2.Response:
            body = {"to": [bob], "subject": subject, "body_text": "b"}
            return api.post(f"/v1/mailboxes/{ana}/messages", json=body)

        assert send("first").status_code == 202
        api.patch(f"/v1/mailboxes/{ana}", json={"display_name": "Ana M."}).raise_for_status()
        assert send("second").status_code == 202
        api.patch("/v1/identities/ana", json={"display_name": "Ana I."}).raise_for_status()
        api.patch(f"/v1/mailboxes/{ana}", json={"display_name": None}).raise_for_status()
        assert send("third").status_code == 202
        api.patch("/v1/identities/ana", json={"status": "paused"}).raise_for_status()
        paused = send("fourth")
        received = wait_for(lambda: len(found := messages(api, bob)) == 3 and found)
    names = {m["subject"]: m["from"]["name"] for m in received}
    assert names == {"first": "Ana", "second": "Ana M.", "third": "Ana I."}
    assert paused.status_code == 409
    assert paused.json()["error"]["code"] == "identity_paused"


def test_an_agent_key_is_not_answered_from_a_root_keys_send(server: LiveServer) -> None:
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        key = api.post("/v1/api-keys", json={"name": "b", "identity_id": "bob"}).json()["key"]
        body = {"to": [bob], "subject": "s", "body_text": "b"}
        assert api.post(f"/v1/mailboxes/{ana}/messages", json=body).status_code == 202
    with server.client(key) as agent:
        # Ana's mailbox was just looked up for the root key: still not Bob's to send from.
        answer = agent.post(f"/v1/mailboxes/{ana}/messages", json=body)
    assert answer.status_code == 404


def test_mail_to_an_unknown_hosted_address_bounces_with_a_report(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        sent = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={"to": ["nobody@agents.localhost"], "subject": "Lost", "body_text": "x"},
        ).json()
        bounce = wait_for(lambda: messages(api, ana, direction="inbound"))[0]
        report = api.get(f"/v1/mailboxes/{ana}/messages/{bounce['id']}").json()
        status = api.get(f"/v1/mailboxes/{ana}/messages/{sent['id']}").json()["status"]
        raw = api.get(f"/v1/mailboxes/{ana}/messages/{bounce['id']}/raw").content
    assert status == "bounced"
    assert report["from"]["address"] == "mailer-daemon@agents.localhost"
    assert report["thread_id"] == sent["thread_id"]  # the report threads with what bounced
    assert b"multipart/report" in raw
    assert b"report-type=delivery-status" in raw
    assert b"Final-Recipient: rfc822; nobody@agents.localhost" in raw
    assert b"Status: 5.1.1" in raw


def test_a_three_message_conversation_threads_on_both_sides(server: LiveServer) -> None:
    """Ana writes, Bob replies, Ana replies again: one thread each, full References chain."""
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        first = api.post(
            f"/v1/mailboxes/{ana}/messages", json={"to": [bob], "subject": "Plan", "body_text": "1"}
        ).json()
        [at_bob] = wait_for(lambda: messages(api, bob))
        second = api.post(
            f"/v1/mailboxes/{bob}/messages",
            json={
                "to": [ana],
                "subject": "Re: Plan",
                "body_text": "2",
                "in_reply_to": at_bob["id"],
            },
        ).json()
        wait_for(lambda: messages(api, ana, direction="inbound"))
        at_ana = messages(api, ana, direction="inbound")[0]
        third = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={
                "to": [bob],
                "subject": "Re: Plan",
                "body_text": "3",
                "in_reply_to": at_ana["id"],
            },
        ).json()
        wait_for(lambda: len(messages(api, bob)) == 3)
        ana_threads = api.get(f"/v1/mailboxes/{ana}/threads").json()["data"]
        bob_threads = api.get(f"/v1/mailboxes/{bob}/threads").json()["data"]
        last = api.get(f"/v1/mailboxes/{bob}/messages/{messages(api, bob)[0]['id']}").json()
    assert [t["message_count"] for t in ana_threads] == [3]
    assert [t["message_count"] for t in bob_threads] == [3]
    assert last["in_reply_to"] == second["rfc_message_id"]
    assert last["references"] == [first["rfc_message_id"], second["rfc_message_id"]]
    assert third["thread_id"] == first["thread_id"]


def deliver_from_outside(server: LiveServer, raw: bytes, recipients: list[str]) -> None:
    import smtplib

    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.sendmail("carol@example.com", recipients, raw)


def test_reply_goes_to_reply_to_with_threading_headers(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        deliver_from_outside(
            server,
            b"From: Carol <carol@example.com>\r\nReply-To: team@example.com\r\nTo: " + ana.encode()
            + b"\r\nSubject: Fwd: Quote\r\nMessage-ID: <q1@example.com>\r\n"
            b"References: <q0@example.com>\r\n\r\nPrice?\r\n",
            [ana],
        )  # fmt: skip
        [original] = messages(api, ana)
        answer = api.post(
            f"/v1/mailboxes/{ana}/messages/{original['id']}/reply", json={"body_text": "42 EUR"}
        )
        assert answer.status_code == 202, answer.text
        reply = answer.json()
    assert [a["address"] for a in reply["to"]] == ["team@example.com"]
    assert reply["subject"] == "Re: Quote"
    assert reply["in_reply_to"] == "<q1@example.com>"
    assert reply["references"] == ["<q0@example.com>", "<q1@example.com>"]
    assert reply["thread_id"] == original["thread_id"]


def test_reply_all_keeps_everyone_but_ourselves(server: LiveServer) -> None:
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        deliver_from_outside(
            server,
            b"From: carol@example.com\r\nTo: " + ana.encode() + b", " + bob.encode()
            + b"\r\nCc: dave@example.com\r\nSubject: Lunch\r\nMessage-ID: <l1@example.com>\r\n"
            b"\r\nWho is in?\r\n",
            [ana, bob],
        )  # fmt: skip
        [original] = messages(api, ana)
        reply = api.post(
            f"/v1/mailboxes/{ana}/messages/{original['id']}/reply-all", json={"body_text": "Me"}
        ).json()
    assert [a["address"] for a in reply["to"]] == ["carol@example.com"]
    assert sorted(a["address"] for a in reply["cc"]) == [bob, "dave@example.com"]
    assert reply["subject"] == "Re: Lunch"


def test_forward_quotes_the_original_and_carries_its_attachments(server: LiveServer) -> None:
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        sent = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={"to": ["x@example.com"], "subject": "Report", "body_text": "See attached.",
                  "attachments": [{"filename": "r.txt", "content_type": "text/plain",
                                   "content_base64": base64.b64encode(b"numbers").decode()}]},
        ).json()  # fmt: skip
        forwarded = api.post(
            f"/v1/mailboxes/{ana}/messages/{sent['id']}/forward",
            json={"to": [bob], "body_text": "FYI"},
        )
        assert forwarded.status_code == 202, forwarded.text
        [copy] = wait_for(lambda: messages(api, bob))
        full = api.get(f"/v1/mailboxes/{bob}/messages/{copy['id']}").json()
        [part] = full["attachments"]
        content = api.get(f"/v1/mailboxes/{bob}/messages/{copy['id']}/attachments/{part['id']}")
    assert full["subject"] == "Fwd: Report"
    assert full["body_text"].startswith("FYI")
    assert "Forwarded message" in full["body_text"]
    assert "See attached." in full["body_text"]
    assert content.content == b"numbers"


def test_replying_to_a_message_of_another_mailbox_is_not_found(server: LiveServer) -> None:
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        sent = api.post(
            f"/v1/mailboxes/{ana}/messages", json={"to": [bob], "subject": "s", "body_text": "b"}
        ).json()
        answer = api.post(f"/v1/mailboxes/{bob}/messages/{sent['id']}/reply", json={})
    assert answer.status_code == 404


def test_every_delivery_outcome_is_recorded_as_an_event(server: LiveServer) -> None:
    """Events commit with the change they describe (read here from the log's table)."""
    from tidings_server.store.engine import create_sync_engine

    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        sent = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={"to": [bob, "x@example.com"], "subject": "Both", "body_text": "b",
                  "idempotency_key": "both-1"},
        ).json()  # fmt: skip
        wait_for(
            lambda: (
                api.get(f"/v1/mailboxes/{ana}/messages/{sent['id']}").json()["status"] != "queued"
            )
        )
    engine = create_sync_engine(server.settings.resolved_database_url)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT type, data FROM events ORDER BY seq").all()
    engine.dispose()
    import json

    events = [(kind, json.loads(data) if isinstance(data, str) else data) for kind, data in rows]
    kinds = [kind for kind, _ in events]
    assert kinds.count("message.received") == 1  # Bob's copy
    assert "message.delivered" in kinds  # to Bob, internally
    assert "message.sent" in kinds  # to example.com, captured
    outcome = next(data for kind, data in events if kind == "message.delivered")
    assert outcome["message"]["id"] == sent["id"]
    assert outcome["idempotency_key"] == "both-1"
    assert outcome["delivery"]["recipient"] == bob


def test_every_send_carries_a_correlation_id_in_the_api_and_the_mime(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        bob = create_identity(api, "bob")
        sent = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={"to": [bob], "subject": "tracked", "body_text": "x"},
            headers={"Idempotency-Key": "job-1"},
        ).json()
        assert sent["correlation_id"].startswith("cor_")
        assert sent["idempotency_key"] == "job-1"
        raw = api.get(f"/v1/mailboxes/{ana}/messages/{sent['id']}/raw").content
        assert f"X-Tidings-Correlation-Id: {sent['correlation_id']}".encode() in raw
        assert b"X-Tidings-Idempotency-Key: job-1" in raw
        [received] = wait_for(lambda: messages(api, bob))
        # The receiving agent sees the same keys, read back from the headers.
        assert received["correlation_id"] == sent["correlation_id"]
        assert received["idempotency_key"] == "job-1"


def test_tracking_keys_may_come_as_mail_headers_and_fields_win(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        tracked = {"X-Tidings-Correlation-Id": "hdr-7", "X-Tidings-Idempotency-Key": "idem-h"}
        body = {"to": ["x@example.com"], "subject": "s", "body_text": "b", "headers": tracked}
        first = api.post(f"/v1/mailboxes/{ana}/messages", json=body)
        again = api.post(f"/v1/mailboxes/{ana}/messages", json=body)
        assert first.json()["correlation_id"] == "hdr-7"
        assert first.json()["idempotency_key"] == "idem-h"
        # The header key de-duplicates like the Idempotency-Key header would.
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        won = api.post(
            f"/v1/mailboxes/{ana}/messages",
            json={**body, "correlation_id": "field-7", "idempotency_key": "idem-f"},
        ).json()
        assert (won["correlation_id"], won["idempotency_key"]) == ("field-7", "idem-f")
        raw = api.get(f"/v1/mailboxes/{ana}/messages/{won['id']}/raw").content
        assert raw.count(b"X-Tidings-Correlation-Id") == 1
        assert b"X-Tidings-Correlation-Id: field-7" in raw
