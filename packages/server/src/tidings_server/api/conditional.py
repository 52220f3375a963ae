"""ETags: every successful JSON GET carries one; `If-None-Match` gives 304, a stale `If-Match` 412.

The tag hashes the body as sent. A view's JSON comes from pydantic's serializer, the same
bytes for the same data, so the tag of a GET answer and the check a PATCH or DELETE makes
against the view (`etag_of_view`) always agree; re-reading every answer into canonical JSON
to hash it cost a twentieth of a message get and a tenth of a list.
"""

from __future__ import annotations

import hashlib

from fastapi import Request
from pydantic import BaseModel

from tidings_server.errors import PreconditionFailed


def etag_of_bytes(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_of_view(view: BaseModel) -> str:
    """The tag of `view` as an endpoint returning it sends it (FastAPI dumps it this way)."""
    return etag_of_bytes(view.model_dump_json(by_alias=True).encode())


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
