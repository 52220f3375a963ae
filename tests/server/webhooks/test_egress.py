"""Webhook egress against real loopback HTTP and DNS servers: SSRF refusals, rebinding, limits."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from tests.support.dns_server import dns_server
from tidings_server.settings import Settings
from tidings_server.webhooks.egress import (
    EgressPolicy,
    EgressRefused,
    WebhookEgress,
    check_url,
    forbidden_kind,
)

PUBLIC_IP = "93.184.215.14"


@dataclass
class Server:
    port: int = 0
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    sent: int = 0  # body bytes the handler managed to write


Respond = Callable[[asyncio.StreamWriter, Server], Awaitable[None]]


@asynccontextmanager
async def http_server(respond: Respond, tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    """A minimal HTTP/1.1 server on 127.0.0.1: reads one request, lets `respond` answer it."""
    state = Server()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            state.requests.append(head + await reader.readexactly(length))
            await respond(writer, state)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def reply(status: str, body: bytes, *extra: str) -> Respond:
    async def respond(writer: asyncio.StreamWriter, state: Server) -> None:
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *extra, "", ""]
        writer.write("\r\n".join(lines).encode() + body)
        await writer.drain()

    return respond


def loopback_policy(**overrides: object) -> EgressPolicy:
    return EgressPolicy(**{"allow": ("127.0.0.1",), **overrides})  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- check_url -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "http:///path",
        "http://user:secret@example.com/",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://127.0.0.1:8080/",
        "http://0.0.0.0/",
        "http://192.168.1.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[2002:a00:1::]/",  # 6to4 wrapping 10.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 wrapping 169.254.169.254
        "http://224.0.0.1/",
        "http://2130706433/",  # 127.0.0.1 spelled as one number
        "http://0x7f.1/",
    ],
)
async def test_check_url_refuses(url: str) -> None:
    with pytest.raises(EgressRefused) as refused:
        await check_url(url, EgressPolicy())
    assert refused.value.param == "url"
    assert "TIDINGS_WEBHOOK_ALLOW_HOSTS" in refused.value.fix
    assert isinstance(refused.value, ValueError)


async def test_check_url_reasons_are_specific() -> None:
    with pytest.raises(EgressRefused, match="scheme must be http or https"):
        await check_url("ftp://example.com/", EgressPolicy())
    with pytest.raises(EgressRefused, match="credentials"):
        await check_url("https://u:p@example.com/", EgressPolicy())
    with pytest.raises(EgressRefused, match="no host"):
        await check_url("http:///x", EgressPolicy())
    with pytest.raises(EgressRefused, match=r"loopback address 127\.0\.0\.1"):
        await check_url("http://127.0.0.1/", EgressPolicy())


@pytest.mark.parametrize(
    ("allow", "url"),
    [
        (("127.0.0.1",), "http://127.0.0.1:9/"),
        (("127.0.0.0/8",), "http://127.8.9.10/"),
        (("localhost",), "http://localhost:9/"),
        (("LocalHost.",), "http://localhost/"),
        (("::1",), "http://[::1]/"),
        (("10.0.0.0/8",), "http://10.1.2.3/"),
    ],
)
async def test_check_url_allow_list(allow: tuple[str, ...], url: str) -> None:
    await check_url(url, EgressPolicy(allow=allow))


async def test_check_url_public_literal_passes() -> None:
    await check_url(f"https://{PUBLIC_IP}/hook", EgressPolicy())


async def test_check_url_through_dns() -> None:
    zone = {
        ("hook.example.test.", "A"): [PUBLIC_IP],
        ("mixed.example.test.", "A"): [PUBLIC_IP, "10.0.0.7"],
        ("v6.example.test.", "AAAA"): ["fd12::1"],
    }
    with dns_server(zone) as resolver:
        policy = EgressPolicy(dns_servers=(resolver,))
        await check_url("http://hook.example.test/", policy)
        await check_url("https://HOOK.example.test./x", policy)
        with pytest.raises(EgressRefused, match=r"private address 10\.0\.0\.7 \(resolved from"):
            await check_url("http://mixed.example.test/", policy)
        with pytest.raises(EgressRefused, match=r"fd12::1"):
            await check_url("http://v6.example.test/", policy)
        with pytest.raises(EgressRefused, match="does not resolve"):
            await check_url("http://missing.example.test/", policy)


def test_forbidden_kinds() -> None:
    def kind(text: str) -> str | None:
        return forbidden_kind(ipaddress.ip_address(text))

    assert kind("127.0.0.1") == "loopback"
    assert kind("10.0.0.1") == "private"
    assert kind("100.64.0.1") == "shared"
    assert kind("169.254.169.254") == "link-local"
    assert kind("239.1.1.1") == "multicast"
    assert kind("240.0.0.1") == "reserved"
    assert kind("fec0::1") == "site-local"
    assert kind("::ffff:10.0.0.1") == "private"
    assert kind(PUBLIC_IP) is None
    assert kind("2606:2800:21f:cb07:6820:80da:af6b:8b2c") is None


def test_policy_from_settings() -> None:
    settings = Settings(
        webhook_allow_hosts="127.0.0.1, hooks.internal",
        dns_servers="1.1.1.1:53",
        webhook_timeout_seconds=3,
    )
    policy = EgressPolicy.from_settings(settings)
    assert policy.allow == ("127.0.0.1", "hooks.internal")
    assert policy.dns_servers == ("1.1.1.1:53",)
    assert policy.timeout_seconds == 3
    assert policy.response_cap_bytes == 64 * 1024


# --- post ------------------------------------------------------------------------------------


async def test_post_to_loopback_is_refused_at_connect_time() -> None:
    async with (
        http_server(reply("200 OK", b"hi")) as server,
        WebhookEgress(EgressPolicy()) as egress,
    ):
        result = await egress.post(f"http://127.0.0.1:{server.port}/", b"{}", {})
    assert result.error_kind == "refused"
    assert result.error is not None
    assert result.error.startswith("refused: loopback address 127.0.0.1")
    assert result.status is None
    assert not result.ok
    assert server.connections == 0


async def test_post_delivers_and_reports() -> None:
    async with (
        http_server(reply("200 OK", b"thanks \xff", "Retry-After: 7", "X-Thing: a")) as server,
        WebhookEgress(loopback_policy()) as egress,
    ):
        result = await egress.post(
            f"http://127.0.0.1:{server.port}/hook?x=1",
            b'{"type":"message.received"}',
            {"content-type": "application/json", "webhook-id": "msg_1"},
        )
    assert result.ok
    assert result.status == 200
    assert result.error is None
    assert result.error_kind is None
    assert result.excerpt == "thanks \ufffd"
    assert result.headers["retry-after"] == "7"
    assert result.headers["x-thing"] == "a"
    assert 0 <= result.latency_ms < 5000
    request = server.requests[0]
    assert request.startswith(b"POST /hook?x=1 HTTP/1.1\r\n")
    assert b"\r\nwebhook-id: msg_1\r\n" in request.lower()
    assert request.endswith(b'{"type":"message.received"}')


@pytest.mark.parametrize("allow", ["127.0.0.0/8", "localhost"])
async def test_post_allow_list_by_network_or_name(allow: str) -> None:
    host = "localhost" if allow == "localhost" else "127.0.0.1"
    async with (
        http_server(reply("204 No Content", b"")) as server,
        WebhookEgress(EgressPolicy(allow=(allow,))) as egress,
    ):
        result = await egress.post(f"http://{host}:{server.port}/", b"{}", {})
    assert result.status == 204
    assert result.ok


async def test_post_stops_reading_at_the_cap() -> None:
    total = 200 * 1024 * 1024

    async def flood(writer: asyncio.StreamWriter, state: Server) -> None:
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        chunk = b"x" * 65536
        while state.sent < total:
            writer.write(chunk)
            await writer.drain()
            state.sent += len(chunk)

    async with http_server(flood) as server, WebhookEgress(loopback_policy()) as egress:
        started = time.monotonic()
        result = await egress.post(f"http://127.0.0.1:{server.port}/", b"{}", {})
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.2)  # let the server notice the closed connection
    assert result.status == 200
    assert result.error is None
    assert result.excerpt == "x" * 1024
    assert elapsed < 2
    assert server.sent < total


async def test_post_deadline_covers_a_trickling_body() -> None:
    async def trickle(writer: asyncio.StreamWriter, state: Server) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            writer.write(b".")
            await writer.drain()
            await asyncio.sleep(0.25)

    policy = loopback_policy(timeout_seconds=1.0)
    async with (
        http_server(trickle) as server,
        http_server(reply("200 OK", b"fine")) as healthy,
        WebhookEgress(policy) as egress,
    ):
        started = time.monotonic()
        result = await egress.post(f"http://127.0.0.1:{server.port}/", b"{}", {})
        elapsed = time.monotonic() - started
        after = await egress.post(f"http://127.0.0.1:{healthy.port}/", b"{}", {})
    assert after.ok  # a cancelled exchange leaves the client usable
    assert result.error_kind == "timeout"
    assert result.error == "timeout after 1s"
    assert result.status == 200  # the headers came; the exchange still did not complete
    assert not result.ok
    assert 0.9 < elapsed < 1.8


async def test_post_times_out_on_a_silent_server() -> None:
    async def silent(writer: asyncio.StreamWriter, state: Server) -> None:
        await asyncio.sleep(10)

    policy = loopback_policy(timeout_seconds=0.5)
    async with http_server(silent) as server, WebhookEgress(policy) as egress:
        result = await egress.post(f"http://127.0.0.1:{server.port}/", b"{}", {})
    assert result.error_kind == "timeout"
    assert result.status is None


async def test_post_connection_refused() -> None:
    async with WebhookEgress(loopback_policy()) as egress:
        result = await egress.post(f"http://127.0.0.1:{closed_port()}/", b"{}", {})
    assert result.error_kind == "connect"
    assert result.status is None
    assert result.error is not None
    assert "refused" in result.error.lower()


async def test_post_garbage_is_a_protocol_error() -> None:
    async def garbage(writer: asyncio.StreamWriter, state: Server) -> None:
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()

    async with http_server(garbage) as server, WebhookEgress(loopback_policy()) as egress:
        result = await egress.post(f"http://127.0.0.1:{server.port}/", b"{}", {})
    assert result.error_kind == "protocol"
    assert result.status is None


async def test_post_refuses_bad_urls_without_raising() -> None:
    async with WebhookEgress(EgressPolicy()) as egress:
        for url in ("ftp://example.com/", "http://u:p@127.0.0.1/", "not a url"):
            result = await egress.post(url, b"{}", {})
            assert result.error_kind == "refused", url


async def test_redirects_are_not_followed() -> None:
    async with http_server(reply("200 OK", b"inner")) as inner:
        location = f"Location: http://127.0.0.1:{inner.port}/"
        async with (
            http_server(reply("302 Found", b"", location)) as outer,
            WebhookEgress(loopback_policy()) as egress,
        ):
            result = await egress.post(f"http://127.0.0.1:{outer.port}/", b"{}", {})
    assert result.status == 302
    assert result.error is None
    assert not result.ok
    assert result.headers["location"] == f"http://127.0.0.1:{inner.port}/"
    assert inner.connections == 0


# --- DNS rebinding ---------------------------------------------------------------------------


async def test_rebinding_is_caught_at_connect_time() -> None:
    zone = {("hook.example.test.", "A"): [PUBLIC_IP]}
    with dns_server(zone) as resolver:
        policy = EgressPolicy(dns_servers=(resolver,))
        async with http_server(reply("200 OK", b"hi")) as server, WebhookEgress(policy) as egress:
            url = f"http://hook.example.test:{server.port}/"
            await check_url(url, policy)  # public when the subscription is saved
            zone[("hook.example.test.", "A")] = ["127.0.0.1"]  # the server reads the zone live
            result = await egress.post(url, b"{}", {})
    assert result.error_kind == "refused"
    assert result.error is not None
    assert "127.0.0.1 (resolved from hook.example.test)" in result.error
    assert server.connections == 0


async def test_allow_listed_name_reaches_its_loopback_address() -> None:
    zone = {("hook.example.test.", "A"): ["127.0.0.1"]}
    with dns_server(zone) as resolver:
        policy = EgressPolicy(allow=("hook.example.test",), dns_servers=(resolver,))
        async with http_server(reply("200 OK", b"ok")) as server, WebhookEgress(policy) as egress:
            url = f"http://hook.example.test:{server.port}/in"
            await check_url(url, policy)
            result = await egress.post(url, b"{}", {})
    assert result.status == 200
    assert result.excerpt == "ok"
    # the socket went to the checked IP, but the request still names the host
    assert f"\r\nhost: hook.example.test:{server.port}\r\n".encode() in server.requests[0].lower()


async def test_tls_names_the_host_not_the_address() -> None:
    seen: list[str | None] = []
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # no certificate: the handshake fails anyway
    tls.sni_callback = lambda sock, name, context: seen.append(name)
    zone = {("hook.example.test.", "A"): ["127.0.0.1"]}
    with dns_server(zone) as resolver:
        policy = EgressPolicy(allow=("hook.example.test",), dns_servers=(resolver,))
        async with (
            http_server(reply("200 OK", b""), tls=tls) as server,
            WebhookEgress(policy) as egress,
        ):
            result = await egress.post(f"https://hook.example.test:{server.port}/", b"{}", {})
    assert result.error_kind == "connect"
    assert seen == ["hook.example.test"]
    assert result.error is not None
    assert "SSL" in result.error


async def test_unresolvable_host_at_delivery_is_a_connect_error() -> None:
    with dns_server({("other.test.", "A"): [PUBLIC_IP]}) as resolver:
        async with WebhookEgress(EgressPolicy(dns_servers=(resolver,))) as egress:
            result = await egress.post("http://gone.example.test/", b"{}", {})
    assert result.error_kind == "connect"
    assert result.error is not None
    assert "does not resolve" in result.error
