"""Outbound mail through a relay (Postfix's smtp-sink): DKIM-signed, retried, bounced."""

from __future__ import annotations

import time
from pathlib import Path

import dkim
import httpx2
import pytest

from tests.support.api import list_messages, wait_for
from tests.support.live import LiveServer, free_port, start_server
from tests.support.sink import smtp_sink
from tidings_server.clock import FakeClock
from tidings_server.store.engine import create_sync_engine


def send(api: httpx2.Client, to: str = "ana@example.com") -> dict:
    api.post("/v1/identities", json={"handle": "bot"})
    answer = api.post(
        "/v1/mailboxes/bot@agents.localhost/messages",
        json={"to": [to], "subject": "Über DKIM", "body_text": "Signed, sealed, delivered."},
    )
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def status_of(api: httpx2.Client, message: dict) -> str:
    return str(
        api.get(f"/v1/mailboxes/bot@agents.localhost/messages/{message['id']}").json()["status"]
    )


def public_key_record(server: LiveServer) -> bytes:
    engine = create_sync_engine(server.settings.resolved_database_url)
    with engine.connect() as connection:
        selector, key = connection.exec_driver_sql(
            "SELECT selector, public_key_b64 FROM dkim_keys WHERE domain = 'agents.localhost'"
        ).one()
    engine.dispose()
    assert selector == "tidings"
    return f"v=DKIM1; k=rsa; p={key}".encode()


@pytest.fixture
def relay_port() -> int:
    return free_port()


@pytest.fixture
def relayed(database_url: str, tmp_path: Path, relay_port: int):
    with start_server(
        database_url=database_url,
        data_dir=tmp_path / "data",
        outbound=f"relay://127.0.0.1:{relay_port}",
    ) as server:
        yield server


def test_relayed_mail_arrives_dkim_signed(
    relayed: LiveServer, relay_port: int, tmp_path: Path
) -> None:
    with smtp_sink(relay_port, tmp_path / "sink") as sink, relayed.client() as api:
        message = send(api)
        wait_for(lambda: status_of(api, message) == "sent")
        [copy] = wait_for(sink.messages)
    assert b"X-Rcpt-Args: <ana@example.com>" in copy
    assert b"X-Mail-Args: <bot@agents.localhost>" in copy
    received = copy.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    record = public_key_record(relayed)
    assert dkim.verify(
        received,
        dnsfunc=lambda name, timeout=5: (
            record if name == b"tidings._domainkey.agents.localhost." else None
        ),
    )
    assert b"d=agents.localhost" in copy


def test_a_soft_rejection_is_retried_on_schedule(database_url: str, tmp_path: Path) -> None:
    clock, port = FakeClock(), free_port()
    with start_server(
        database_url=database_url, data_dir=tmp_path / "data", clock=clock,
        outbound=f"relay://127.0.0.1:{port}",
    ) as server, server.client() as api:  # fmt: skip
        with smtp_sink(port, tmp_path / "refusing", ["-r", "rcpt"]):
            message = send(api)
            wait_for(lambda: status_of(api, message) == "delayed")
            events = api.get("/v1/mailboxes/bot@agents.localhost/messages").json()
        assert events["data"][0]["status"] == "delayed"
        with smtp_sink(port, tmp_path / "accepting") as sink:
            time.sleep(0.5)
            assert status_of(api, message) == "delayed"  # not due yet: the clock has not moved
            clock.advance(70)  # past the first retry (60 s ± 10 %)
            wait_for(lambda: status_of(api, message) == "sent")
            assert len(sink.messages()) == 1


def test_a_hard_rejection_bounces_at_once_with_a_report(
    relayed: LiveServer, relay_port: int, tmp_path: Path
) -> None:
    with smtp_sink(relay_port, tmp_path / "sink", ["-f", "rcpt"]), relayed.client() as api:
        message = send(api)
        wait_for(lambda: status_of(api, message) == "bounced")
        inbound = api.get(
            "/v1/mailboxes/bot@agents.localhost/messages", params={"direction": "inbound"}
        ).json()["data"]
    [report] = inbound
    assert report["from"]["address"] == "mailer-daemon@agents.localhost"
    assert report["subject"] == "Undelivered Mail Returned to Sender"


def test_temporary_failures_fail_when_the_lifetime_ends(database_url: str, tmp_path: Path) -> None:
    clock, port = FakeClock(), free_port()
    with (
        start_server(
            database_url=database_url,
            data_dir=tmp_path / "data",
            clock=clock,
            outbound=f"relay://127.0.0.1:{port}",
            delivery_lifetime_seconds=600,
        ) as server,
        server.client() as api,
        smtp_sink(port, tmp_path / "sink", ["-r", "rcpt"]),
    ):
        message = send(api)
        wait_for(lambda: status_of(api, message) == "delayed")
        for _ in range(5):
            clock.advance(400)
            time.sleep(0.4)
        # Nobody refused it, so it failed rather than bounced; the sender still gets a report.
        wait_for(lambda: status_of(api, message) == "failed")
        events = api.get("/v1/events", params={"types": "message.failed"}).json()["data"]
        assert [e["data"]["message"]["id"] for e in events] == [message["id"]]
        assert events[0]["data"]["delivery"]["attempts"] >= 2
        reports = list_messages(api, "bot@agents.localhost", direction="inbound")
        assert [r["subject"] for r in reports] == ["Undelivered Mail Returned to Sender"]


def test_an_unreachable_relay_is_a_temporary_failure(relayed: LiveServer) -> None:
    with relayed.client() as api:  # nothing listens on the relay port
        message = send(api)
        wait_for(lambda: status_of(api, message) == "delayed")
