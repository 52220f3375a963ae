"""A relay that insists on STARTTLS and AUTH (an aiosmtpd server): Tidings logs in over TLS."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.server.smtp.test_listener import _self_signed
from tests.support.live import free_port, start_server


class Relay:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"agent",
            b"s3cret",
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[Relay, int, Path]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    peer, port = Relay(), free_port()
    controller = Controller(
        peer,
        hostname="127.0.0.1",
        port=port,
        server_hostname="agents.localhost",
        tls_context=context,
        require_starttls=True,
        authenticator=peer.authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield peer, port, cert
    finally:
        controller.stop()


def _sent(
    database_url: str, data_dir: Path, url: str, messages: int = 1, **settings: Any
) -> list[str]:
    """Send `messages` one after another, each once the one before has left the queue; their
    statuses."""
    statuses = []
    with (
        start_server(
            database_url=database_url, data_dir=data_dir, outbound=url, **settings
        ) as server,
        server.client() as api,
    ):
        api.post("/v1/identities", json={"handle": "bot"})
        for _ in range(messages):
            message = api.post(
                "/v1/mailboxes/bot@agents.localhost/messages",
                json={"to": ["ana@example.com"], "subject": "Over TLS", "body_text": "hi"},
            ).json()
            url_ = f"/v1/mailboxes/bot@agents.localhost/messages/{message['id']}"
            deadline = time.monotonic() + 15
            while (status := api.get(url_).json()["status"]) == "queued":
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            statuses.append(str(status))
    return statuses


def test_relay_with_starttls_and_auth(database_url: str, tmp_path: Path, relay) -> None:
    peer, port, ca = relay
    url = f"relay://agent:s3cret@127.0.0.1:{port}?starttls=1&cafile={ca}"
    assert _sent(database_url, tmp_path / "d", url) == ["sent"]
    [(sender, recipients, content)] = peer.received
    assert (sender, recipients) == ("bot@agents.localhost", ["ana@example.com"])
    assert b"Subject: Over TLS" in content
    assert peer.logins == ["agent"]


def test_messages_in_a_row_share_one_connection(database_url: str, tmp_path: Path, relay) -> None:
    peer, port, ca = relay
    url = f"relay://agent:s3cret@127.0.0.1:{port}?starttls=1&cafile={ca}"
    assert _sent(database_url, tmp_path / "d", url, messages=3) == ["sent"] * 3
    assert len(peer.received) == 3
    assert peer.logins == ["agent"]  # one TLS handshake and one login carried all three


def test_connections_can_be_one_per_message(database_url: str, tmp_path: Path, relay) -> None:
    peer, port, ca = relay
    url = f"relay://agent:s3cret@127.0.0.1:{port}?starttls=1&cafile={ca}"
    statuses = _sent(database_url, tmp_path / "d", url, messages=2,
                     delivery_connection_cache_seconds=0)  # fmt: skip
    assert statuses == ["sent"] * 2
    assert peer.logins == ["agent", "agent"]


def test_wrong_relay_credentials_are_retried_not_lost(
    database_url: str, tmp_path: Path, relay
) -> None:
    peer, port, ca = relay
    url = f"relay://agent:wrong@127.0.0.1:{port}?starttls=1&cafile={ca}&timeout=2"
    assert _sent(database_url, tmp_path / "d", url) == ["delayed"]
    assert peer.received == []
