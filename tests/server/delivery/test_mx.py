"""Direct delivery to MX hosts found in DNS (a loopback DNS server and Postfix's smtp-sink)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2
import pytest

from tests.support.api import wait_for
from tests.support.dns_server import dns_server
from tests.support.live import LiveServer, free_port, start_server
from tests.support.sink import Sink, smtp_sink

ZONE = {
    ("example.test.", "MX"): ["20 backup.example.test.", "10 mx.example.test."],
    ("mx.example.test.", "A"): ["127.0.0.1"],
    ("backup.example.test.", "A"): ["127.0.0.2"],
    ("fallback.test.", "MX"): ["10 dead.fallback.test.", "20 mx.example.test."],
    ("dead.fallback.test.", "A"): ["127.0.0.3"],  # nothing listens there
    ("plain.test.", "A"): ["127.0.0.1"],  # no MX record: the domain itself (implicit MX)
    ("nomail.test.", "MX"): ["0 ."],
    ("nomail.test.", "A"): ["127.0.0.1"],
}


@contextmanager
def serving_mx(
    database_url: str, tmp_path: Path, resolver: str
) -> Iterator[tuple[LiveServer, Sink]]:
    """A server delivering by MX lookups at `resolver` to an smtp-sink."""
    port = free_port()
    with (
        smtp_sink(port, tmp_path / "sink") as sink,
        start_server(
            database_url=database_url,
            data_dir=tmp_path / "data",
            outbound="mx",
            dns_servers=(resolver,),
            mx_port=port,
        ) as server,
    ):
        yield server, sink


@pytest.fixture
def mx(database_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Sink]]:
    with dns_server(ZONE) as resolver, serving_mx(database_url, tmp_path, resolver) as served:
        yield served


def send(api: httpx2.Client, to: list[str]) -> dict:
    api.post("/v1/identities", json={"handle": "bot"})
    answer = api.post(
        "/v1/mailboxes/bot@agents.localhost/messages",
        json={"to": to, "subject": "Direct", "body_text": "via MX"},
    )
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def status(api: httpx2.Client, message: dict) -> str:
    url = f"/v1/mailboxes/bot@agents.localhost/messages/{message['id']}"
    return str(api.get(url).json()["status"])


def test_mail_goes_to_the_preferred_mx_in_one_transaction_per_domain(mx) -> None:
    server, sink = mx
    with server.client() as api:
        message = send(api, ["ana@example.test", "bob@example.test"])
        wait_for(lambda: status(api, message) == "sent")
    [copy] = sink.messages()
    assert copy.count(b"X-Rcpt-Args:") == 2
    assert b"DKIM-Signature:" in copy


@pytest.mark.parametrize("recipient", ["ana@nomail.test", "ana@no-such-domain.test"])
def test_a_domain_that_takes_no_mail_bounces(mx, recipient: str) -> None:
    server, sink = mx
    with server.client() as api:
        message = send(api, [recipient])
        wait_for(lambda: status(api, message) == "bounced")
    assert sink.messages() == []


def test_an_unreachable_preferred_mx_falls_back_to_the_next(mx) -> None:
    server, sink = mx
    with server.client() as api:
        message = send(api, ["ana@fallback.test"])
        wait_for(lambda: status(api, message) == "sent")
    assert len(sink.messages()) == 1


def test_a_domain_without_mx_is_delivered_to_its_address_record(mx) -> None:
    server, sink = mx
    with server.client() as api:
        message = send(api, ["ana@plain.test"])
        wait_for(lambda: status(api, message) == "sent")
    assert len(sink.messages()) == 1


def test_dns_answers_are_kept_for_their_ttl(database_url: str, tmp_path: Path) -> None:
    # The zone's answers live 60 s: with the DNS server gone, a second send to the same
    # domain is still delivered from what the first lookups learnt.
    dns = ExitStack()
    resolver = dns.enter_context(dns_server(ZONE))
    with serving_mx(database_url, tmp_path, resolver) as (server, sink), server.client() as api:
        first = send(api, ["ana@example.test"])
        wait_for(lambda: status(api, first) == "sent")
        dns.close()
        second = send(api, ["bob@example.test"])
        wait_for(lambda: status(api, second) == "sent", timeout=10)
    assert len(sink.messages()) == 2
