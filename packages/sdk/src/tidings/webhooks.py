"""Signing and verifying webhook requests (Standard Webhooks, `v1` HMAC-SHA256).

A receiver checks each request before trusting it:

    from tidings.webhooks import verify_webhook, WebhookVerificationError

    try:
        event = verify_webhook(request_body, request.headers, "whsec_...")
    except WebhookVerificationError as error:
        return 400, error.reason

The server (and the CLI) sign with `sign_headers`. Only the standard library is used here, so
anything that can import `tidings` can sign and verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from tidings._events import Event, parse_event
from tidings._exceptions import TidingsError

__all__ = [
    "WebhookVerificationError",
    "sign_headers",
    "sign_webhook",
    "verify_webhook",
]

_SECRET_PREFIX = "whsec_"  # noqa: S105  (the marker on secrets, not a secret)
_TIMESTAMP = re.compile(r"[0-9]+")

Reason = Literal[
    "missing_header",
    "invalid_timestamp",
    "timestamp_too_old",
    "timestamp_in_future",
    "invalid_signature",
    "invalid_payload",
]


class WebhookVerificationError(TidingsError):
    """The request is not a genuine, fresh webhook from the server; `reason` says which check."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


def _key(secret: str) -> bytes:
    """The HMAC key in a `whsec_<base64>` secret (raw base64 is accepted too, as elsewhere)."""
    encoded = secret.strip().removeprefix(_SECRET_PREFIX)
    try:
        # Secrets are sometimes stored without their base64 padding; put it back.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from error
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def _secrets(secret: str | Sequence[str]) -> list[str]:
    # A str is a Sequence[str] too; a lone secret must not be read as its characters.
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("give at least one webhook secret")
    return secrets


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, content, hashlib.sha256).digest()


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def sign_webhook(secret: str, *, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The `v1,<base64>` signature of one request with one secret."""
    digest = _digest(_key(secret), msg_id, timestamp, _as_bytes(body))
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(
    secrets: str | Sequence[str], *, msg_id: str, timestamp: int, body: bytes | str
) -> dict[str, str]:
    """The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers for a request.

    With several secrets (while one is being rotated out) the signature header carries one
    signature per secret, so receivers holding either secret accept the request.
    """
    signatures = [
        sign_webhook(secret, msg_id=msg_id, timestamp=timestamp, body=body)
        for secret in _secrets(secrets)
    ]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    # httpx and starlette headers ignore case already; a plain dict may not.
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if not value or not value.strip():
        raise WebhookVerificationError(
            "missing_header",
            f"the request has no {name!r} header: pass the request's own headers, unchanged",
        )
    return value.strip()


def _signatures(header: str) -> list[bytes]:
    """The `v1` signatures in the header; other versions and garbled entries are skipped."""
    found: list[bytes] = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify_webhook(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> Event:
    """Check a webhook request is genuine and fresh, then parse its body into a typed event.

    `payload` must be the raw body exactly as received (not re-serialised JSON). `secret` may
    be several secrets, e.g. the old and new one while rotating. `tolerance` is how many
    seconds the `webhook-timestamp` may be from `now` (default: the current time) either way.

    Raises `WebhookVerificationError` whose `reason` is one of: `missing_header`,
    `invalid_timestamp`, `timestamp_too_old`, `timestamp_in_future`, `invalid_signature`,
    `invalid_payload`. A malformed secret raises `ValueError`: that is a setup mistake, not a
    bad request.
    """
    keys = [_key(s) for s in _secrets(secret)]
    body = _as_bytes(payload)
    msg_id = _header(headers, "webhook-id")
    raw_timestamp = _header(headers, "webhook-timestamp")
    signature_header = _header(headers, "webhook-signature")

    if not _TIMESTAMP.fullmatch(raw_timestamp):
        raise WebhookVerificationError(
            "invalid_timestamp",
            f"webhook-timestamp {raw_timestamp[:40]!r} is not whole seconds since the epoch",
        )
    timestamp = int(raw_timestamp)
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError(
            "timestamp_too_old",
            f"the webhook was signed {int(current - timestamp)}s ago, more than {tolerance}s: "
            "a replay, or check this machine's clock",
        )
    if timestamp > current + tolerance:
        raise WebhookVerificationError(
            "timestamp_in_future",
            f"the webhook is dated {int(timestamp - current)}s ahead, more than {tolerance}s: "
            "check this machine's clock",
        )

    # Compare against every signature with every key, in constant time each.
    expected = [_digest(key, msg_id, timestamp, body) for key in keys]
    given = _signatures(signature_header)
    if not any(hmac.compare_digest(e, g) for e in expected for g in given):
        raise WebhookVerificationError(
            "invalid_signature",
            "no webhook-signature matches: check the secret is this webhook's, and that the "
            "body is passed exactly as received (raw bytes, not parsed and re-encoded)",
        )

    try:
        raw: Any = json.loads(body)
    except ValueError as error:
        raise WebhookVerificationError(
            "invalid_payload", f"the webhook body is not JSON: {error}"
        ) from error
    if not isinstance(raw, dict) or raw.get("id") != msg_id:
        # The id is signed in the header; the body must be about the same event.
        raise WebhookVerificationError(
            "invalid_payload",
            f"the body's event id does not match webhook-id {msg_id!r}",
        )
    try:
        return parse_event(raw)
    except ValueError as error:
        raise WebhookVerificationError(
            "invalid_payload", f"the webhook body is not a valid event: {error}"
        ) from error
