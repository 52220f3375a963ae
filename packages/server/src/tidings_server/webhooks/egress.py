"""The only road from Tidings to webhook endpoints: URLs and every connect-time address are checked
against private networks (SSRF, DNS rebinding), and each delivery is bounded in time and bytes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, Self

import dns.asyncresolver
import dns.exception
import httpcore2
import httpx2

from tidings_server.settings import Settings, split_host_port

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ErrorKind = Literal["timeout", "connect", "refused", "protocol"]

EXCERPT_BYTES = 1024
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TIMEOUTS = (TimeoutError, httpx2.TimeoutException, httpcore2.TimeoutException)
_CONNECT_ERRORS = (httpx2.ConnectError, httpcore2.ConnectError)
# Our transport speaks httpcore2 directly, so its errors arrive unmapped next to httpx2's own.
_EXCHANGE_ERRORS = (
    *(httpx2.HTTPError, httpx2.InvalidURL, httpx2.StreamError, OSError),
    *(httpcore2.NetworkError, httpcore2.ProtocolError, httpcore2.UnsupportedProtocol),
)


class EgressRefused(ValueError):
    """A webhook URL or the address it resolves to is not one Tidings may call."""

    fix = (
        "Use a public http(s) URL, or allow the host or network with "
        "TIDINGS_WEBHOOK_ALLOW_HOSTS (e.g. TIDINGS_WEBHOOK_ALLOW_HOSTS=127.0.0.1,hooks.internal)."
    )

    def __init__(self, reason: str, param: str = "url") -> None:
        super().__init__(reason)
        self.reason = reason
        self.param = param


@dataclass(frozen=True)
class EgressPolicy:
    allow: tuple[str, ...] = ()  # hostnames (exact), IP addresses or CIDR networks
    dns_servers: tuple[str, ...] = ()  # "host" or "host:port"; the system resolver if empty
    timeout_seconds: float = 10.0  # the whole exchange: connect, send, read
    connect_timeout_seconds: float = 5.0
    response_cap_bytes: int = 64 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        timeout = settings.webhook_timeout_seconds
        return cls(
            allow=settings.webhook_allow_hosts,
            dns_servers=settings.dns_servers,
            timeout_seconds=timeout,
            connect_timeout_seconds=min(5.0, timeout),
        )

    @cached_property
    def _allowed(
        self,
    ) -> tuple[frozenset[str], tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
        names: set[str] = set()
        networks = []
        for entry in self.allow:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        return frozenset(names), tuple(networks)

    def check(self, host: str, addresses: Iterable[IPAddress]) -> None:
        """Raise `EgressRefused` unless `host` is allow-listed or each address is public/allowed."""
        names, networks = self._allowed
        if host.lower().rstrip(".") in names:
            return
        for ip in addresses:
            kind = forbidden_kind(ip)
            if kind is None or any(_embedded(ip) in net for net in networks):
                continue
            source = "" if _ip_literal(host) else f" (resolved from {host})"
            raise EgressRefused(f"{kind} address {ip}{source} is off limits for webhooks")


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _embedded(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64); else the address itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def forbidden_kind(ip: IPAddress) -> str | None:
    """Why webhooks may not reach `ip` without an allow-list entry ("loopback", ...), or None."""
    ip = _embedded(ip)
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (ip in _SHARED, "shared"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non-public"),
    )
    return next((kind for hit, kind in checks if hit), None)


def target_host(url: str) -> str:
    """The host a webhook URL points at; refuses other schemes and credentials in the URL."""
    try:
        parsed = httpx2.URL(url)  # the client's own parser: no gap between what we check and call
    except httpx2.InvalidURL as exc:
        raise EgressRefused(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https"):
        raise EgressRefused(f"the URL scheme must be http or https, not {parsed.scheme or 'none'}")
    if parsed.userinfo:
        raise EgressRefused("credentials in the URL are not allowed; use the signing secret")
    if not parsed.raw_host:
        raise EgressRefused("the URL has no host")
    return parsed.raw_host.decode("ascii")


class _Resolver:
    """Resolves A/AAAA with the policy's DNS servers, or the system's (which knows /etc/hosts)."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._lifetime = policy.connect_timeout_seconds
        self._dns: dns.asyncresolver.Resolver | None = None
        if policy.dns_servers:
            hosts = [split_host_port(server, default_port=53) for server in policy.dns_servers]
            self._dns = dns.asyncresolver.Resolver(configure=False)
            self._dns.nameservers = [host for host, _ in hosts]
            self._dns.nameserver_ports = dict(hosts)
            self._dns.lifetime = self._lifetime

    async def addresses(self, host: str) -> list[IPAddress]:
        """Every address of `host` (empty if it does not resolve); TimeoutError if DNS is slow."""
        literal = _ip_literal(host)
        if literal is not None:
            return [literal]
        found: list[str] = []
        if self._dns is None:
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(self._lifetime):
                    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except socket.gaierror:
                return []
            found = [str(info[4][0]) for info in infos]
        else:
            try:
                found = list((await self._dns.resolve_name(host)).addresses())
            except dns.exception.Timeout as exc:
                raise TimeoutError(f"resolving {host} timed out") from exc
            except dns.exception.DNSException:
                return []
        return list(dict.fromkeys(ipaddress.ip_address(a.partition("%")[0]) for a in found))


async def check_url(url: str, policy: EgressPolicy) -> None:
    """Refuse (`EgressRefused`) a webhook URL we would not deliver to; run on create and update."""
    host = target_host(url)
    try:
        addresses = await _Resolver(policy).addresses(host)
    except TimeoutError as exc:
        raise EgressRefused(f"{host} did not resolve in time; check the name and DNS") from exc
    if not addresses:
        raise EgressRefused(f"{host} does not resolve to any address")
    policy.check(host, addresses)


class _CheckedBackend(httpcore2.AsyncNetworkBackend):
    """Resolves at connect time, checks every address, then dials the checked IP itself.

    Passing the IP on (not the name) closes the DNS-rebinding gap; TLS SNI, certificate checks
    and the Host header still use the URL's host because httpcore2 takes those from the origin.
    `EgressRefused` is no httpcore2 error, so it crosses httpcore2 and httpx2 unwrapped.
    """

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._resolver = _Resolver(policy)
        self._dialer = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            addresses = await self._resolver.addresses(host)
        except TimeoutError as exc:
            raise httpcore2.ConnectTimeout(f"resolving {host} timed out") from exc
        if not addresses:
            raise httpcore2.ConnectError(f"{host} does not resolve to any address")
        self._policy.check(host, addresses)
        failure: Exception = httpcore2.ConnectError(f"no address of {host} to try")
        for ip in addresses:
            try:
                return await self._dialer.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                failure = type(exc)(f"{_describe(exc)} ({ip} port {port})")
                failure.__cause__ = exc
        raise failure

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _Body(httpx2.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class _CheckedTransport(httpx2.AsyncBaseTransport):
    """httpx2's own transport takes no network backend, so this one wires httpcore2 up directly."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_CheckedBackend(policy),
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        assert isinstance(request.stream, httpx2.AsyncByteStream)
        url = request.url
        response = await self._pool.handle_async_request(
            httpcore2.Request(
                method=request.method,
                url=httpcore2.URL(
                    scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        assert isinstance(response.stream, AsyncIterable)
        return httpx2.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


@dataclass(frozen=True)
class EgressResult:
    status: int | None  # None when no HTTP answer arrived
    latency_ms: int
    headers: dict[str, str]  # lower-cased names
    excerpt: str  # the first KiB of the body
    error: str | None = None  # set when the exchange did not complete, even if a status came
    error_kind: ErrorKind | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


class WebhookEgress:
    """One HTTP client for all webhook deliveries under an `EgressPolicy`."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self._client = httpx2.AsyncClient(
            transport=_CheckedTransport(policy),
            follow_redirects=False,  # a redirect could point anywhere; it is just a non-2xx
            trust_env=False,  # an env proxy would dial for us, past the connect-time check
            timeout=httpx2.Timeout(policy.timeout_seconds, connect=policy.connect_timeout_seconds),
            headers={"accept-encoding": "identity"},  # the byte cap must count what we keep
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> EgressResult:
        """POST `body`; network trouble and refusals come back as a result, never raised."""
        started = time.monotonic()
        status: int | None = None
        answer: dict[str, str] = {}
        kept = bytearray()
        error: tuple[ErrorKind, str] | None = None
        try:
            target_host(url)
            async with (
                asyncio.timeout(self.policy.timeout_seconds),
                self._client.stream("POST", url, content=body, headers=headers) as response,
            ):
                status = response.status_code
                answer = {name.lower(): value for name, value in response.headers.items()}
                seen = 0
                async for chunk in response.aiter_raw():
                    kept += chunk[: max(0, EXCERPT_BYTES - len(kept))]
                    seen += len(chunk)
                    if seen >= self.policy.response_cap_bytes:
                        break  # leaving the block closes the connection: the rest stays unread
        except EgressRefused as exc:
            error = ("refused", f"refused: {exc.reason}")
        except _TIMEOUTS:
            error = ("timeout", f"timeout after {self.policy.timeout_seconds:g}s")
        except _CONNECT_ERRORS as exc:
            error = ("connect", f"connection failed: {str(exc) or _describe(exc)}")
        except _EXCHANGE_ERRORS as exc:
            error = ("protocol", f"{type(exc).__name__}: {str(exc) or _describe(exc)}")
        return EgressResult(
            status=status,
            latency_ms=int((time.monotonic() - started) * 1000),
            headers=answer,
            excerpt=bytes(kept).decode("utf-8", errors="replace"),
            error=None if error is None else error[1],
            error_kind=None if error is None else error[0],
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _describe(exc: BaseException) -> str:
    """The telling part of a failure chain: the OS's words ("Connection refused") if it has some."""
    current: BaseException | None = exc
    text = ""
    for _ in range(8):  # chains are short; the bound also stops a cycle
        if current is None:
            break
        # asyncio rewords strerror but errno stays true; an SSLError's errno is OpenSSL's
        if isinstance(current, OSError) and not isinstance(current, ssl.SSLError) and current.errno:
            return os.strerror(current.errno)
        text = text or str(current)
        if isinstance(current, BaseExceptionGroup):
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__
    return text or type(exc).__name__
