"""`Idempotency-Key` on POST: the first request runs, retries get its stored answer.

The key is claimed in its own committed transaction (so other processes see it in flight),
the answer is stored in the request's own transaction, and a request that fails releases the
key so that a corrected retry can run. Keys belong to the API key that used them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import timedelta

from fastapi import Request
from starlette.responses import Response

from tidings_server.errors import BadRequest, TidingsError
from tidings_server.store.repositories import Claim
from tidings_server.store.repositories.idempotency import ClaimState

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Headers worth replaying; ids, dates and rate-limit counters belong to the new request.
STORED_HEADERS = ("content-type", "location", "etag")


class IdempotencyConflict(TidingsError):
    status = 409
    code = "idempotency_conflict"


def requested_key(request: Request, body: bytes, body_fields: Sequence[str] = ()) -> str | None:
    """The request's idempotency key: the header, or (where the endpoint allows) a body field;
    the first of `body_fields` present wins."""
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    found = ((f, _body_field(body, f)) for f in body_fields)
    body_field, in_body = next(((f, v) for f, v in found if v is not None), (None, None))
    if body_field is not None:
        if key is not None and in_body is not None and in_body != key:
            raise BadRequest(
                f"The Idempotency-Key header and `{body_field}` in the body differ.",
                code="idempotency_key_mismatch",
                param=body_field,
                fix="Send the key once, or send the same value in both places.",
            )
        key = key if key is not None else in_body
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(
            "Idempotency-Key must be 1 to 255 printable characters.",
            code="invalid_idempotency_key",
            param="Idempotency-Key",
            fix="Use a UUID or another unique string of at most 255 characters.",
        )
    return key


def _body_field(body: bytes, path: str) -> str | None:
    """A string at `path` in a JSON body: `field`, or `field.Name` for a key of a header map
    (matched case-insensitively, as header names are)."""
    field, _, header = path.partition(".")
    try:
        value = json.loads(body).get(field)
        if header:
            value = next((v for k, v in value.items() if k.lower() == header.lower()), None)
    except (ValueError, AttributeError):
        return None  # the endpoint's own validation reports a malformed body
    return value if isinstance(value, str) else None


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests 'the same': method, path, query and the JSON body's meaning."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method, path, query):
        digest.update(part.encode() + b"\0")
    digest.update(canonical)
    return digest.hexdigest()


def refuse(claim: Claim, lease_seconds: int) -> TidingsError:
    """The error for a claim the caller may not run."""
    if claim.state is ClaimState.CONFLICT:
        return IdempotencyConflict(
            "This Idempotency-Key was already used with a different request.",
            param="Idempotency-Key",
            fix="Use a new Idempotency-Key for a different request; reuse a key only to retry "
            "exactly the same request.",
        )
    return IdempotencyConflict(
        "A request with this Idempotency-Key is still being processed.",
        param="Idempotency-Key",
        retryable=True,
        fix="Retry after the number of seconds in Retry-After to get its answer.",
        headers={"Retry-After": str(min(lease_seconds, 1))},
    )


def replay(claim: Claim) -> Response:
    record = claim.record
    assert record.response_status is not None
    headers = dict(record.response_headers or {})
    headers[REPLAYED] = "true"
    return Response(
        content=record.response_body, status_code=record.response_status, headers=headers
    )


def stored_headers(response: Response) -> dict[str, str]:
    return {name: response.headers[name] for name in STORED_HEADERS if name in response.headers}


def redacted(body: bytes, secret_fields: list[str]) -> bytes:
    """The answer as stored for replay: secrets are shown once, so a replay shows them as null."""
    if not secret_fields:
        return body
    document = json.loads(body)
    for name in secret_fields:
        if name in document:
            document[name] = None
    return json.dumps(document, separators=(",", ":")).encode()


def lease(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)
