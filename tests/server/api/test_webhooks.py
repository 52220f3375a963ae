"""/v1/webhooks/subscriptions: subscriptions are validated, scoped, and their secrets write-once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.support.api import assert_error, create_agent_key, create_identity
from tests.support.dns_server import dns_server
from tests.support.live import LiveServer, start_server

HOOK = "https://hooks.example.com/tidings"
# This machine has no DNS of its own: a loopback DNS server gives the hook host a public address.
ZONE = {("hooks.example.com.", "A"): ["93.184.215.14"]}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with (
        dns_server(ZONE) as nameserver,
        start_server(
            database_url=database_url, data_dir=tmp_path / "data", dns_servers=(nameserver,)
        ) as live,
    ):
        yield live


def create(api: httpx2.Client, **fields: Any) -> httpx2.Response:
    return api.post(
        "/v1/webhooks/subscriptions",
        json={"url": HOOK, "event_types": ["message.received"], **fields},
    )


def test_create_returns_the_secret_once_and_hides_header_values(server: LiveServer) -> None:
    with server.client() as api:
        answer = create(api, headers={"X-Team": "ops"}, description="inbox")
        assert answer.status_code == 201, answer.text
        webhook = answer.json()
        assert webhook["id"].startswith("whk_")
        assert answer.headers["Location"] == f"/v1/webhooks/subscriptions/{webhook['id']}"
        assert webhook["secret"].startswith("whsec_")
        assert webhook["owner"] == "organisation"
        assert webhook["header_names"] == ["X-Team"]
        assert "ops" not in answer.text.replace(webhook["secret"], "")
        shown = api.get(f"/v1/webhooks/subscriptions/{webhook['id']}").json()
        assert "secret" not in shown
        assert shown["enabled"] is True
        assert (
            api.get(f"/v1/webhooks/subscriptions/{webhook['id']}/secret").json()["secret"]
            == webhook["secret"]
        )
        assert [w["id"] for w in api.get("/v1/webhooks/subscriptions").json()["data"]] == [
            webhook["id"]
        ]


@pytest.mark.parametrize(
    ("event_types", "code", "param"),
    [
        ([], "event_types_empty", "event_types"),
        (["message.received", "message.recieved"], "unknown_event_type", "event_types[1]"),
        (["message.sent", "message.sent"], "duplicate_event_type", "event_types[1]"),
    ],
)
def test_event_types_must_be_known_distinct_and_present(
    server: LiveServer, event_types: list[str], code: str, param: str
) -> None:
    with server.client() as api:
        assert_error(create(api, event_types=event_types), 422, code, param)
        assert api.get("/v1/webhooks/subscriptions").json()["data"] == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "hooks.example.com/x",
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "https://nowhere.example.com/hook",
        "https://user:pass@hooks.example.com/x",
    ],
)
def test_urls_must_be_http_and_public(server: LiveServer, url: str) -> None:
    with server.client() as api:
        assert_error(create(api, url=url), 422, "webhook_url_not_allowed", "url")


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"webhook-signature": "x"}, "reserved_header"),
        ({"Content-Type": "text/plain"}, "reserved_header"),
        ({"X-Bad": "a\r\nInjected: 1"}, "invalid_header_value"),
        ({"Bad Name": "x"}, "invalid_header_name"),
    ],
)
def test_custom_headers_are_checked(server: LiveServer, headers: dict[str, str], code: str) -> None:
    with server.client() as api:
        assert_error(create(api, headers=headers), 422, code)


def test_update_and_delete(server: LiveServer) -> None:
    with server.client() as api:
        webhook = create(api).json()
        path = f"/v1/webhooks/subscriptions/{webhook['id']}"
        changed = api.patch(
            path, json={"event_types": ["message.sent", "message.bounced"], "enabled": False}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["event_types"] == ["message.sent", "message.bounced"]
        assert changed.json()["enabled"] is False
        assert changed.json()["disabled_reason"] == "disabled through the API"
        assert_error(api.patch(path, json={"event_types": ["x"]}), 422, "unknown_event_type")
        assert_error(api.patch(path, json={"enabled": None}), 422, "validation_error")
        assert_error(api.post(f"{path}/test"), 409, "webhook_disabled")
        assert api.patch(path, json={"enabled": True}).json()["disabled_reason"] is None
        assert api.delete(path).json() == {"id": webhook["id"], "deleted": True}
        assert_error(api.get(path), 404, "not_found")


def test_owners_and_agent_scope(server: LiveServer) -> None:
    with server.client() as api:
        ana = create_identity(api, "ana")
        create_identity(api, "bob")
        for_org = create(api).json()
        for_mailbox = create(api, mailbox=ana).json()
        assert for_mailbox["owner"] == "mailbox"
        assert for_mailbox["mailbox_id"].startswith("mbx_")
        assert create(api, identity="bob").json()["owner"] == "identity"
        assert_error(create(api, identity="ana", mailbox=ana), 422, "validation_error")
        bob_key = create_agent_key(api, "bob")
    with server.client(bob_key) as as_bob:
        mine = create(as_bob)
        assert mine.status_code == 201
        # An agent key's subscription is always its own identity's, never the organisation's.
        assert mine.json()["owner"] == "identity"
        visible = {w["id"] for w in as_bob.get("/v1/webhooks/subscriptions").json()["data"]}
        assert for_org["id"] not in visible
        assert for_mailbox["id"] not in visible
        assert len(visible) == 2
        assert_error(as_bob.get(f"/v1/webhooks/subscriptions/{for_org['id']}"), 404, "not_found")
        assert_error(
            as_bob.delete(f"/v1/webhooks/subscriptions/{for_mailbox['id']}"), 404, "not_found"
        )
        assert_error(create(as_bob, mailbox=ana), 404, "not_found")


def test_rotating_keeps_the_old_secret_for_the_grace_period(server: LiveServer) -> None:
    with server.client() as api:
        webhook = create(api).json()
        rotated = api.post(
            f"/v1/webhooks/subscriptions/{webhook['id']}/rotate-secret",
            json={"grace_period_seconds": 600},
        )
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"] != webhook["secret"]
        assert rotated.json()["previous_secret_expires_at"] is not None
        shown = api.get(f"/v1/webhooks/subscriptions/{webhook['id']}").json()
        assert shown["previous_secret_expires_at"] == rotated.json()["previous_secret_expires_at"]
