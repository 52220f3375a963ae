"""What every way of sending takes besides its recipients (a message, a reply, a forward, a
marketplace request or answer), and the request body and headers it makes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from tidings._attachments import JSONBody, OutboundAttachment, attachment_bodies
from tidings._bodies import Body, usage_body
from tidings._models import Usage
from tidings.resources._shared import idempotent

__all__ = ["Addresses", "Composition", "address_list", "composed_body"]

# One address or several: a lone string is one address, never a sequence of characters.
Addresses = str | Sequence[str]


class Composition(TypedDict, total=False):
    """What every way of sending takes besides its recipients and subject.

    `idempotency_key`: the same key again answers with the first send (within 24 h).
    `correlation_id`: your own reference (a job or ticket id); delivery events carry it.
    `usage`: the work behind the send (a `Usage` or a dict of its fields), priced on the
    sender's plan and booked in the ledger.
    """

    body_text: str | None
    body_html: str | None
    cc: Addresses | None
    bcc: Addresses | None
    attachments: Sequence[OutboundAttachment] | None
    headers: Mapping[str, str] | None
    idempotency_key: str | None
    correlation_id: str | None
    usage: Usage | Mapping[str, Any] | None


def address_list(addresses: Addresses | None) -> list[str]:
    if addresses is None:
        return []
    return [addresses] if isinstance(addresses, str) else list(addresses)


def composed_body(model: type[Body], composed: Composition, **fields: Any) -> dict[str, Any]:
    """The body (attachments streamed in) and headers of any send: a message, reply,
    forward, or a marketplace request or answer."""
    given: dict[str, Any] = dict(composed)
    bodies, sources = attachment_bodies(given.pop("attachments", None) or ())
    given["usage"] = usage_body(given.get("usage"))
    for name in ("cc", "bcc"):
        given[name] = address_list(given.get(name)) or None
    if given.get("headers") is not None:
        given["headers"] = dict(given["headers"])
    body = JSONBody(model.given(**given, **fields, attachments=bodies), sources)
    # The body's key travels as the header too, so the SDK does not add a different one.
    return {"body": body, "headers": idempotent(composed.get("idempotency_key"))}
