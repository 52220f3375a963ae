"""Relay and MX transports: one SMTP transaction per domain with all its recipients (aiosmtplib),
on connections kept open between messages (`SmtpSessions`)."""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import dns.asyncresolver
import dns.exception
import dns.resolver

from tidings_server.delivery.smtp_sessions import SmtpSessions, outcome_for_code
from tidings_server.delivery.transport import Outcome, Result
from tidings_server.settings import split_host_port

log = logging.getLogger("tidings.delivery")


def _temporary(recipients: Sequence[str], detail: str) -> dict[str, Outcome]:
    return {r: Outcome(Result.TEMPORARY, None, detail) for r in recipients}


@dataclass(frozen=True)
class RelaySettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    cafile: str | None = None  # a private CA for the relay's certificate
    timeout: float = 60

    @classmethod
    def parse(cls, url: str) -> RelaySettings:
        """`relay://user:pass@host:port?starttls=1&cafile=/path/ca.pem&timeout=60`"""
        parts = urlsplit(url)
        if parts.scheme != "relay" or not parts.hostname:
            raise ValueError("a relay is relay://[user:pass@]host[:port][?starttls=1]")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=parts.port or 587,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            cafile=query.get("cafile", [None])[0],
            timeout=float(query.get("timeout", ["60"])[0]),
        )


class RelayTransport:
    """Everything for outside domains goes to one smarthost, with STARTTLS and AUTH if set."""

    def __init__(self, settings: RelaySettings, *, helo: str, sessions: SmtpSessions) -> None:
        self.settings = settings
        self.helo = helo
        self.sessions = sessions

    def _new_client(self) -> aiosmtplib.SMTP:
        relay = self.settings
        return aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            local_hostname=self.helo,
            timeout=relay.timeout,
            start_tls=relay.starttls,
            use_tls=False,
            tls_context=ssl.create_default_context(cafile=relay.cafile) if relay.cafile else None,
            username=relay.username,
            password=(relay.password or "") if relay.username is not None else None,
        )

    async def send(
        self, sender: str, recipients: Sequence[str], raw: bytes, *, domain: str
    ) -> dict[str, Outcome]:
        relay = self.settings
        try:
            return await self.sessions.transact(
                (relay.host, relay.port), self._new_client, sender, recipients, raw
            )
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our configuration is wrong, not the message: keep it until the operator fixes it.
            return _temporary(
                recipients, f"relay refused our credentials: {exc.code} {exc.message}"
            )
        except aiosmtplib.SMTPResponseException as exc:
            return {r: outcome_for_code(exc.code, exc.message) for r in recipients}
        except (aiosmtplib.SMTPException, OSError) as exc:
            return _temporary(recipients, f"relay {relay.host}:{relay.port}: {exc}")

    async def close(self) -> None:
        await self.sessions.close()


class MxTransport:
    """Direct delivery: the domain's MX hosts by preference, else its A/AAAA (RFC 5321 5.1)."""

    def __init__(
        self,
        *,
        helo: str,
        port: int = 25,
        timeout: float = 60,
        nameservers: Sequence[str] = (),
        sessions: SmtpSessions,
    ) -> None:
        self.helo = helo
        self.sessions = sessions
        self.port = port
        self.timeout = timeout
        self.resolver = dns.asyncresolver.Resolver(configure=not nameservers)
        # Answers are kept for their TTL: a lookup per message was a twentieth of a send's
        # cost, and a resolver outage shorter than the TTL no longer holds up delivery.
        self.resolver.cache = dns.resolver.LRUCache()
        if nameservers:
            hosts = [split_host_port(server, default_port=53) for server in nameservers]
            self.resolver.nameservers = [host for host, _ in hosts]
            self.resolver.nameserver_ports = dict(hosts)

    async def hosts(self, domain: str) -> list[str]:
        try:
            answer = await self.resolver.resolve(domain, "MX")
        except dns.resolver.NXDOMAIN:
            raise LookupError(f"the domain {domain} does not exist") from None
        except dns.resolver.NoAnswer:
            return [domain]  # implicit MX
        records = sorted(answer, key=lambda r: r.preference)
        hosts = [str(r.exchange).rstrip(".") for r in records]
        if hosts == [""]:  # null MX (RFC 7505): the domain accepts no mail
            raise LookupError(f"the domain {domain} accepts no mail (null MX)")
        return hosts

    async def _addresses(self, hosts: list[str]) -> list[tuple[str, str]]:
        """(host, IP) pairs in MX preference order, resolved with the same resolver."""
        pairs = []
        for host in hosts:
            for kind in ("A", "AAAA"):
                try:
                    answer = await self.resolver.resolve(host, kind)
                except dns.exception.DNSException:
                    continue
                pairs += [(host, record.to_text()) for record in answer]
        return pairs

    def _new_client(self, address: str) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=address,
            port=self.port,
            local_hostname=self.helo,
            timeout=self.timeout,
            start_tls=None,  # opportunistic: STARTTLS when offered
            validate_certs=False,
        )

    async def send(
        self, sender: str, recipients: Sequence[str], raw: bytes, *, domain: str
    ) -> dict[str, Outcome]:
        try:
            hosts = await self.hosts(domain)
        except LookupError as exc:
            return {r: Outcome(Result.PERMANENT, 550, str(exc)) for r in recipients}
        except dns.exception.DNSException as exc:
            return _temporary(recipients, f"DNS lookup for {domain} failed: {exc}")
        last = "no MX host answered"
        for host, address in await self._addresses(hosts):
            try:
                return await self.sessions.transact(
                    (address, self.port),
                    functools.partial(self._new_client, address),
                    sender,
                    recipients,
                    raw,
                )
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code >= 500:
                    return {r: outcome_for_code(exc.code, exc.message) for r in recipients}
                last = f"{host}: {exc.code} {exc.message}"
            except (aiosmtplib.SMTPException, OSError) as exc:
                last = f"{host}: {exc}"
        return _temporary(recipients, last)

    async def close(self) -> None:
        await self.sessions.close()
