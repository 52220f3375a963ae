"""Which SMTP recipients a hosted domain accepts: never an open relay.

Anything that could route mail onwards (percent hack, bang paths, source routes, quoted
local parts, IP literals) is refused outright, before any mailbox lookup.
"""

from __future__ import annotations

from enum import Enum


class Recipient(Enum):
    HOSTED = "hosted"  # syntactically ours: look the mailbox up
    FOREIGN_DOMAIN = "foreign_domain"
    ROUTING_TRICK = "routing_trick"


_ROUTING_CHARS = frozenset('%!"[]\\:,;<> \t')


def classify(address: str, domain: str) -> tuple[Recipient, str]:
    """The verdict and, for hosted addresses, the normalised address to look up."""
    if address.startswith("@"):  # source route: @relay1,@relay2:user@host
        return Recipient.ROUTING_TRICK, address
    local, at, host = address.rpartition("@")
    if not at or not local or not host:
        return Recipient.ROUTING_TRICK, address
    if "@" in local or any(c in _ROUTING_CHARS for c in local) or host.startswith("["):
        return Recipient.ROUTING_TRICK, address
    if host.lower().rstrip(".") != domain:
        return Recipient.FOREIGN_DOMAIN, address
    return Recipient.HOSTED, f"{local.lower()}@{domain}"
