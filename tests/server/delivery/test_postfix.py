"""Tidings next to a real Postfix: as the relay in front of a second Tidings, and as a remote MX."""

from __future__ import annotations

from pathlib import Path

import dkim
import httpx2

from tests.support.api import wait_for
from tests.support.dns_server import dns_server
from tests.support.live import LiveServer, free_port, start_server
from tests.support.postfix import postfix
from tidings_server.store.engine import create_sync_engine


def dkim_record(server: LiveServer) -> bytes:
    engine = create_sync_engine(server.settings.resolved_database_url)
    with engine.connect() as connection:
        key = connection.exec_driver_sql("SELECT public_key_b64 FROM dkim_keys").scalar_one()
    engine.dispose()
    return f"v=DKIM1; k=rsa; p={key}".encode()


def verifies(raw: bytes, record: bytes) -> bool:
    lookups = {b"tidings._domainkey.agents.localhost.": record}
    return bool(dkim.verify(raw, dnsfunc=lambda name, timeout=5: lookups.get(name)))


def send(api: httpx2.Client, to: str, subject: str) -> dict:
    api.post("/v1/identities", json={"handle": "ana", "display_name": "Ana"})
    answer = api.post(
        "/v1/mailboxes/ana@agents.localhost/messages",
        json={"to": [to], "subject": subject, "body_text": "Through Postfix."},
    )
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def test_postfix_relays_to_a_second_tidings(database_url: str, tmp_path: Path) -> None:
    relay_port, b_smtp = free_port(), free_port()
    with (
        start_server(
            database_url=f"sqlite:///{tmp_path / 'b.db'}",
            data_dir=tmp_path / "b",
            domain="agents-b.test",
            smtp=f"127.0.0.1:{b_smtp}",
        ) as second,
        postfix(relay_port, relays={"agents-b.test": b_smtp}),
        start_server(
            database_url=database_url,
            data_dir=tmp_path / "a",
            outbound=f"relay://127.0.0.1:{relay_port}",
        ) as first,
    ):
        with second.client() as api:
            api.post("/v1/identities", json={"handle": "bob"})
        with first.client() as api:
            sent = send(api, "bob@agents-b.test", "Hello, second Tidings")
            wait_for(
                lambda: (
                    api.get(f"/v1/mailboxes/ana@agents.localhost/messages/{sent['id']}").json()[
                        "status"
                    ]
                    == "sent"
                )
            )
        with second.client() as api:
            [arrived] = wait_for(
                lambda: api.get("/v1/mailboxes/bob@agents-b.test/messages").json()["data"]
            )
            raw = api.get(f"/v1/mailboxes/bob@agents-b.test/messages/{arrived['id']}/raw").content
        record = dkim_record(first)
    assert arrived["subject"] == "Hello, second Tidings"
    assert arrived["from"] == {"name": "Ana", "address": "ana@agents.localhost"}
    assert b"postfix.test" in raw  # Postfix's Received header: it really went through Postfix
    assert verifies(raw, record)


def test_postfix_as_the_remote_mx_receives_signed_mail(database_url: str, tmp_path: Path) -> None:
    mx_port = free_port()
    zone = {
        ("example.test.", "MX"): ["10 mx.example.test."],
        ("mx.example.test.", "A"): ["127.0.0.1"],
    }
    with (
        dns_server(zone) as resolver,
        postfix(mx_port, mailboxes=["carol@example.test"]) as remote,
        start_server(
            database_url=database_url,
            data_dir=tmp_path / "a",
            outbound="mx",
            dns_servers=(resolver,),
            mx_port=mx_port,
        ) as server,
        server.client() as api,
    ):
        send(api, "carol@example.test", "Straight to your MX")
        [delivered] = wait_for(lambda: remote.mailbox("carol@example.test"))
        record = dkim_record(server)
    assert b"Subject: Straight to your MX" in delivered
    assert verifies(delivered.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), record)
