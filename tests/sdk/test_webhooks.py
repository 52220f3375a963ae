"""Webhook signing and verification, checked against the reference Standard Webhooks library,
and the typed parsing of every event type (plus tolerance of types and fields not known yet)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import standardwebhooks

import tidings
from tidings import (
    EVENT_TYPES,
    Event,
    MessageBouncedEvent,
    MessageDelayedEvent,
    MessageDeliveredEvent,
    MessageFailedEvent,
    MessageReceivedEvent,
    MessageSentEvent,
    WebhookDisabledEvent,
    WebhookTestEvent,
    WebhookVerificationError,
    parse_event,
    verify_webhook,
)
from tidings.webhooks import sign_headers, sign_webhook
from tidings_server.events.log import CATALOGUE

SECRET = "whsec_" + base64.b64encode(b"a-test-key-of-32-bytes-long-abcd").decode()
OTHER = "whsec_" + base64.b64encode(b"another-key-of-32-bytes-long-xyz").decode()
THIRD = "whsec_" + base64.b64encode(b"yet-another-key-32-bytes-long-qq").decode()
NOW = 1_760_000_000
EVT = "evt_01JZ0000000000000000000000"

MESSAGE: dict[str, Any] = {
    "id": "msg_01",
    "mailbox": "support-bot@agents.example.com",
    "thread_id": "thr_01",
    "direction": "inbound",
    "status": "received",
    "rfc_message_id": "<abc@mail.example.org>",
    "from": {"name": "Ada", "address": "ada@example.org"},
    "to": [{"name": "Support Bot", "address": "support-bot@agents.example.com"}],
    "cc": [],
    "subject": "Invoice 42",
    "preview": "Hello, about the invoice",
    "labels": ["inbox"],
    "is_read": False,
    "is_starred": False,
    "attachments": [],
    "size": 1234,
    "created_at": "2025-10-09T08:00:00Z",
    "in_reply_to": None,
    "references": [],
    "bcc": [],
    "reply_to": [],
    "body_text": "Hello, about the invoice...",
    "body_html": None,
    "extracted_text": "Hello, about the invoice",
    "headers": [["Subject", "Invoice 42"]],
    "parse_warnings": [],
    "body_truncated": True,
}
THREAD: dict[str, Any] = {
    "id": "thr_01",
    "mailbox": "support-bot@agents.example.com",
    "subject": "Invoice 42",
    "participants": ["ada@example.org", "support-bot@agents.example.com"],
    "message_count": 1,
    "last_message_at": "2025-10-09T08:00:00Z",
    "created_at": "2025-10-09T08:00:00Z",
}
MESSAGE_DATA: dict[str, Any] = {
    "message": MESSAGE,
    "thread": THREAD,
    "contacts": [{"address": "ada@example.org", "name": "Ada"}],
    "agent_identities": [
        {
            "identity_id": "idn_01",
            "handle": "support-bot",
            "address": "support-bot@agents.example.com",
        }
    ],
}


def delivery_data(status: str, code: int | None = None) -> dict[str, Any]:
    return {
        **MESSAGE_DATA,
        "delivery": {
            "recipient": "ada@example.org",
            "status": status,
            "attempts": 2,
            "code": code,
            "detail": None if code is None else f"{code} something",
            "next_attempt_at": "2025-10-09T08:05:00Z" if status == "delayed" else None,
        },
        "idempotency_key": "idem-1",
        "correlation_id": "order-42",
    }


def event(kind: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": EVT, "type": kind, "timestamp": "2025-10-09T08:00:01Z", "data": data, **extra}


def body_of(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()


BODY = body_of(event("webhook.test", {"webhook_id": "wh_01", "message": "hello"}))


def headers(
    secrets: str | list[str] = SECRET, *, body: bytes = BODY, at: int = NOW
) -> dict[str, str]:
    return sign_headers(secrets, msg_id=EVT, timestamp=at, body=body)


def reason_of(body: bytes, hdrs: Any, secret: str | list[str] = SECRET, **kw: Any) -> str:
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(body, hdrs, secret, now=kw.pop("now", NOW), **kw)
    assert str(caught.value)  # the message says what to check
    return caught.value.reason


# --- against the reference implementation ---------------------------------------------------


def test_reference_signature_verifies_with_ours() -> None:
    signature = standardwebhooks.Webhook(SECRET).sign(
        EVT, datetime.fromtimestamp(NOW, tz=UTC), BODY.decode()
    )
    assert signature == sign_webhook(SECRET, msg_id=EVT, timestamp=NOW, body=BODY)
    hdrs = {"webhook-id": EVT, "webhook-timestamp": str(NOW), "webhook-signature": signature}
    got = verify_webhook(BODY, hdrs, SECRET, now=NOW)
    assert isinstance(got, WebhookTestEvent)
    assert got.data.message == "hello"


def test_our_signature_verifies_with_the_reference() -> None:
    import time

    now = int(time.time())  # the reference library always checks against the real clock
    hdrs = headers([SECRET, OTHER], at=now)
    parsed = standardwebhooks.Webhook(SECRET).verify(BODY, hdrs)
    assert parsed["id"] == EVT
    assert standardwebhooks.Webhook(OTHER).verify(BODY.decode(), hdrs)["id"] == EVT


def test_raw_base64_secret_without_prefix_is_the_same_key() -> None:
    raw = SECRET.removeprefix("whsec_")
    assert sign_webhook(raw, msg_id=EVT, timestamp=NOW, body=BODY) == sign_webhook(
        SECRET, msg_id=EVT, timestamp=NOW, body=BODY
    )
    unpadded = "whsec_" + base64.b64encode(b"k" * 31).decode().rstrip("=")
    verify_webhook(BODY, headers(unpadded), unpadded, now=NOW)


def test_a_malformed_secret_is_a_setup_error_not_a_bad_request() -> None:
    with pytest.raises(ValueError, match="base64"):
        verify_webhook(BODY, headers(), "whsec_not base64!", now=NOW)
    with pytest.raises(ValueError, match="empty"):
        sign_webhook("whsec_", msg_id=EVT, timestamp=NOW, body=BODY)
    with pytest.raises(ValueError, match="at least one"):
        verify_webhook(BODY, headers(), [], now=NOW)


# --- headers and rotation ---------------------------------------------------------------------


def test_sign_headers_shape() -> None:
    hdrs = headers([SECRET, OTHER])
    assert hdrs["webhook-id"] == EVT
    assert hdrs["webhook-timestamp"] == str(NOW)
    first, second = hdrs["webhook-signature"].split(" ")
    assert first == sign_webhook(SECRET, msg_id=EVT, timestamp=NOW, body=BODY)
    assert second == sign_webhook(OTHER, msg_id=EVT, timestamp=NOW, body=BODY)
    assert headers(SECRET)["webhook-signature"] == first  # a lone str is one secret


def test_rotation_either_secret_verifies_a_third_does_not() -> None:
    hdrs = headers([SECRET, OTHER])
    assert isinstance(verify_webhook(BODY, hdrs, SECRET, now=NOW), WebhookTestEvent)
    assert isinstance(verify_webhook(BODY, hdrs, OTHER, now=NOW), WebhookTestEvent)
    assert isinstance(verify_webhook(BODY, hdrs, [THIRD, OTHER], now=NOW), WebhookTestEvent)
    assert reason_of(BODY, hdrs, THIRD) == "invalid_signature"


def test_headers_are_looked_up_without_regard_to_case() -> None:
    import httpx2

    mixed = {k.title(): v for k, v in headers().items()}
    verify_webhook(BODY, mixed, SECRET, now=NOW)
    verify_webhook(BODY.decode(), httpx2.Headers(mixed), SECRET, now=NOW)


def test_unknown_versions_and_garbage_signatures_are_skipped() -> None:
    hdrs = headers()
    hdrs["webhook-signature"] = "v2,abc v1,!!notbase64 nonsense " + hdrs["webhook-signature"]
    verify_webhook(BODY, hdrs, SECRET, now=NOW)


# --- rejections -------------------------------------------------------------------------------


def test_tampered_body() -> None:
    tampered = BODY.replace(b"hello", b"hellO")
    assert reason_of(tampered, headers(), SECRET) == "invalid_signature"


def test_wrong_secret() -> None:
    assert reason_of(BODY, headers(), OTHER) == "invalid_signature"


def test_old_timestamp_and_tolerance() -> None:
    hdrs = headers(at=NOW - 301)
    assert reason_of(BODY, hdrs) == "timestamp_too_old"
    verify_webhook(BODY, headers(at=NOW - 300), SECRET, now=NOW)  # the edge is inside
    verify_webhook(BODY, hdrs, SECRET, now=NOW, tolerance=600)
    assert reason_of(BODY, headers(at=NOW - 11), tolerance=10) == "timestamp_too_old"


def test_future_timestamp() -> None:
    assert reason_of(BODY, headers(at=NOW + 301)) == "timestamp_in_future"
    verify_webhook(BODY, headers(at=NOW + 301), SECRET, now=NOW, tolerance=400)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(name: str) -> None:
    hdrs = headers()
    del hdrs[name]
    assert reason_of(BODY, hdrs) == "missing_header"
    hdrs[name] = ""
    assert reason_of(BODY, hdrs) == "missing_header"


@pytest.mark.parametrize("stamp", ["soon", "1760000000.5", "-5", "1e9", "0x10"])
def test_non_numeric_timestamp(stamp: str) -> None:
    hdrs = headers()
    hdrs["webhook-timestamp"] = stamp
    assert reason_of(BODY, hdrs) == "invalid_timestamp"


def test_body_id_must_match_the_signed_id() -> None:
    other = body_of(event("webhook.test", {"webhook_id": "wh_01", "message": "x"}) | {"id": "e2"})
    assert reason_of(other, headers(body=other)) == "invalid_payload"


def test_signed_but_not_an_event() -> None:
    for body in (b"not json", b"[1, 2]", body_of({"id": EVT, "type": "webhook.test"})):
        assert reason_of(body, headers(body=body)) == "invalid_payload"


def test_the_error_is_a_tidings_error() -> None:
    assert issubclass(WebhookVerificationError, tidings.TidingsError)
    assert tidings.webhooks.WebhookVerificationError is WebhookVerificationError


# --- typed events -----------------------------------------------------------------------------


def test_message_received_is_typed() -> None:
    body = body_of(event("message.received", MESSAGE_DATA))
    got = verify_webhook(body, headers(body=body), SECRET, now=NOW)
    assert isinstance(got, MessageReceivedEvent)
    assert got.id == EVT
    assert got.timestamp == datetime(2025, 10, 9, 8, 0, 1, tzinfo=UTC)
    assert got.data.message.subject == "Invoice 42"
    assert got.data.message.from_ is not None
    assert got.data.message.from_.address == "ada@example.org"
    assert got.data.message.body_truncated is True
    assert got.data.message.created_at.year == 2025
    assert got.data.thread.message_count == 1
    assert got.data.contacts[0].name == "Ada"
    assert got.data.agent_identities[0].handle == "support-bot"


@pytest.mark.parametrize(
    ("kind", "cls", "code"),
    [
        ("message.sent", MessageSentEvent, None),
        ("message.delivered", MessageDeliveredEvent, 250),
        ("message.delayed", MessageDelayedEvent, 451),
        ("message.bounced", MessageBouncedEvent, 550),
        ("message.failed", MessageFailedEvent, None),
    ],
)
def test_delivery_events_are_typed(kind: str, cls: type[Event], code: int | None) -> None:
    status = kind.split(".")[1]
    got = parse_event(event(kind, delivery_data(status, code)))
    assert type(got) is cls
    assert isinstance(
        got,
        MessageSentEvent
        | MessageDeliveredEvent
        | MessageDelayedEvent
        | MessageBouncedEvent
        | MessageFailedEvent,
    )
    assert got.type == kind
    assert got.data.delivery.code == code
    assert got.data.delivery.status == status
    assert got.data.delivery.attempts == 2
    assert got.data.idempotency_key == "idem-1"
    assert got.data.correlation_id == "order-42"
    assert got.data.message.subject == "Invoice 42"
    if kind == "message.delayed":
        assert got.data.delivery.next_attempt_at == datetime(2025, 10, 9, 8, 5, tzinfo=UTC)


def test_webhook_events_are_typed() -> None:
    test = parse_event(body_of(event("webhook.test", {"webhook_id": "wh_1", "message": "hi"})))
    assert isinstance(test, WebhookTestEvent)
    assert test.data.webhook_id == "wh_1"
    disabled = parse_event(
        json.dumps(
            event(
                "webhook.disabled",
                {"webhook_id": "wh_1", "url": "https://x.test/h", "reason": "failing"},
            )
        )
    )
    assert isinstance(disabled, WebhookDisabledEvent)
    assert (disabled.data.url, disabled.data.reason) == ("https://x.test/h", "failing")


def test_every_type_the_server_emits_has_a_class() -> None:
    assert set(EVENT_TYPES) == set(CATALOGUE)


def test_unknown_type_is_a_plain_event_with_data_intact() -> None:
    data = {"from": "+15550100", "text": "hi", "nested": {"a": [1, 2]}}
    body = body_of(event("sms.received", data))
    got = verify_webhook(body, headers(body=body), SECRET, now=NOW)
    assert type(got) is Event
    assert got.type == "sms.received"
    assert got.data == data


def test_unknown_fields_are_kept_not_refused() -> None:
    data = delivery_data("delivered", 250)
    data["shiny_new"] = 1
    data["delivery"] = {**data["delivery"], "mx": "mx1.example.org"}
    data["message"] = {**MESSAGE, "sentiment": "positive"}
    got = parse_event(event("message.delivered", data, api_version="2026-01-01"))
    assert isinstance(got, MessageDeliveredEvent)
    assert got.model_extra == {"api_version": "2026-01-01"}
    assert got.data.model_extra == {"shiny_new": 1}
    assert got.data.delivery.model_extra == {"mx": "mx1.example.org"}
    assert got.data.message.model_extra == {"sentiment": "positive"}


def test_a_known_type_with_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="delivery"):
        parse_event(event("message.sent", MESSAGE_DATA))
    with pytest.raises(ValueError, match="object"):
        parse_event("[]")


def test_the_sdk_webhook_module_does_not_need_standardwebhooks() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['standardwebhooks'] = None\n"
        "import tidings.webhooks, tidings; tidings.verify_webhook; tidings.Event\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
