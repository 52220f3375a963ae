"""Tracking keys that travel with a send: its correlation id and idempotency key.

They are API fields, and they also ride in the message's own MIME headers, so the agent at
the other end (on Tidings or not) can quote them back. A caller may give them as those
headers instead of fields; a field wins over a header. Every send gets a correlation id:
the caller's, or one made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tidings_server import ids

CORRELATION_HEADER = "X-Tidings-Correlation-Id"
IDEMPOTENCY_HEADER = "X-Tidings-Idempotency-Key"
_NAMES = {CORRELATION_HEADER.lower(), IDEMPOTENCY_HEADER.lower()}
MAX_LENGTH = 200


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            value = value.strip()
            usable = 0 < len(value) <= MAX_LENGTH and value.isprintable()
            return value if usable else None
    return None


@dataclass(frozen=True)
class Tracking:
    correlation_id: str
    idempotency_key: str | None

    @classmethod
    def for_send(
        cls,
        *,
        correlation_id: str | None,
        idempotency_key: str | None,
        headers: Mapping[str, str],
    ) -> Tracking:
        items = list(headers.items())
        return cls(
            correlation_id=correlation_id
            or _header(items, CORRELATION_HEADER)
            or ids.new_id("cor"),
            idempotency_key=idempotency_key or _header(items, IDEMPOTENCY_HEADER),
        )

    def mime_headers(self, custom: Mapping[str, str]) -> dict[str, str]:
        """The caller's headers with the tracking ones set to the values that won."""
        merged = {k: v for k, v in custom.items() if k.lower() not in _NAMES}
        merged[CORRELATION_HEADER] = self.correlation_id
        if self.idempotency_key is not None:
            merged[IDEMPOTENCY_HEADER] = self.idempotency_key
        return merged


def received(headers: Iterable[tuple[str, str]]) -> tuple[str | None, str | None]:
    """(correlation id, idempotency key) a received message carries, if any."""
    fields = list(headers)
    return _header(fields, CORRELATION_HEADER), _header(fields, IDEMPOTENCY_HEADER)
