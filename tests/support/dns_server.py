"""A tiny authoritative DNS server on loopback (dnspython), so MX delivery can be tested here."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

# {("example.test.", "MX"): ["10 mx.example.test."], ("mx.example.test.", "A"): ["127.0.0.1"]}
Zone = Mapping[tuple[str, str], list[str]]
TTL = 60
_APEX = "."  # one SOA covers every name served, whatever its domain
_SOA = f"ns.test. hostmaster.test. 1 3600 600 86400 {TTL}"


def _answer(zone: Zone, wire: bytes) -> bytes:
    query = dns.message.from_wire(wire)
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    question = query.question[0]
    name, kind = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
    if (name, kind) in zone:
        response.answer.append(dns.rrset.from_text(name, TTL, "IN", kind, *zone[(name, kind)]))
        return bytes(response.to_wire())
    if not any(known == name for known, _ in zone):
        response.set_rcode(dns.rcode.NXDOMAIN)
    # As a real server does: the SOA says how long a resolver may remember there is nothing.
    response.authority.append(dns.rrset.from_text(_APEX, TTL, "IN", "SOA", _SOA))
    return bytes(response.to_wire())


@contextmanager
def dns_server(zone: Zone) -> Iterator[str]:
    """Serve `zone` over UDP on 127.0.0.1; yields "127.0.0.1:port"."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            sock.sendto(_answer(zone, wire), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        sock.close()
