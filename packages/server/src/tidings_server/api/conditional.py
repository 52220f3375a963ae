"""ETags: every successful JSON GET carries one; `If-None-Match` gives 304, a stale `If-Match` 412.

The tag is a hash of the resource's canonical JSON, so the GET answer and the check a PATCH
or DELETE makes against the same view always agree. A list's tag hashes its body as sent:
nothing is ever checked against a list with If-Match, and re-reading a page of fifty messages
into canonical form cost a tenth of the request.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from tidings_server.errors import PreconditionFailed


def etag_of(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return etag_of_bytes(canonical.encode())


def etag_of_bytes(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_of_view(view: BaseModel) -> str:
    return etag_of(view.model_dump(mode="json", by_alias=True))


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def matches_none(request: Request, etag: str) -> bool:
    """True when the client's `If-None-Match` already names this representation."""
    header = request.headers.get("if-none-match")
    return header is not None and (header.strip() == "*" or etag in _tags(header))


def check_if_match(request: Request, current: BaseModel) -> None:
    """Refuse a change made against a representation that is no longer current."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return
    if etag_of_view(current) not in _tags(header):
        raise PreconditionFailed(
            "The resource changed since the ETag in If-Match was issued.",
            param="If-Match",
        )
