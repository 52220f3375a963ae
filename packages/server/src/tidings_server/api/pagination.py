"""Cursor pagination shared by every list: `?limit=&cursor=` in, `{data, pagination}` out.

Cursors are opaque and signed with an installation secret, bound to the list and filters they
came from, so a tampered or transplanted cursor gets `400 invalid_cursor` instead of odd data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from tidings_server.errors import BadRequest
from tidings_server.store.repositories import Page, PageRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

Item = TypeVar("Item")
View = TypeVar("View", bound=BaseModel)


class Pagination(BaseModel):
    has_more: bool
    next_cursor: str | None


class ListResponse(BaseModel, Generic[View]):
    data: list[View]
    pagination: Pagination


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _sign(self, payload: bytes, context: str) -> str:
        mac = hmac.new(self._key, payload + b"|" + context.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")

    def encode(self, position: str, context: str) -> str:
        payload = json.dumps({"b": position}, separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(payload, context)}"

    def decode(self, cursor: str, context: str) -> str:
        invalid = BadRequest(
            "The cursor is not one this list gave out, or the filters changed since.",
            code="invalid_cursor",
            param="cursor",
            fix="Pass `next_cursor` from the previous page unchanged, with the same filters; "
            "or drop `cursor` to start from the first page.",
        )
        body, _, signature = cursor.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            raise invalid from None
        if not hmac.compare_digest(signature.encode(), self._sign(payload, context).encode()):
            raise invalid
        try:
            before = json.loads(payload)["b"]
        except (ValueError, KeyError, TypeError):
            raise invalid from None
        if not isinstance(before, str):
            raise invalid
        return before


def _context(request: Request) -> str:
    filters = sorted(
        (k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit")
    )
    return request.url.path + "?" + json.dumps(filters)


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1-100).")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
]


class PageParams:
    """The page a list request asks for, with its cursor already verified."""

    def __init__(self, request: Request, limit: int, cursor: str | None) -> None:
        self._codec: CursorCodec = request.app.state.cursor_codec
        self._context = _context(request)
        self.limit = limit
        self.position = self._codec.decode(cursor, self._context) if cursor else None
        self.request = PageRequest(limit=limit, before_id=self.position)

    @property
    def offset(self) -> int:
        """For ranked lists (search), whose position is how many results came before."""
        return int(self.position) if self.position and self.position.isdigit() else 0

    def respond(self, page: Page[Item], view: Callable[[Item], View]) -> ListResponse[View]:
        last = page.last_id
        next_cursor = self._codec.encode(last, self._context) if page.has_more and last else None
        items: Iterable[Item] = page.items
        return ListResponse(
            data=[view(row) for row in items],
            pagination=Pagination(has_more=page.has_more, next_cursor=next_cursor),
        )

    def respond_from(
        self, items: list[View], *, position: str | None, has_more: bool
    ) -> ListResponse[View]:
        """For lists ordered by something other than id (the event log's sequence)."""
        next_cursor = self._codec.encode(position, self._context) if has_more and position else None
        return ListResponse(
            data=items, pagination=Pagination(has_more=has_more, next_cursor=next_cursor)
        )

    def respond_ranked(self, items: list[View], *, has_more: bool) -> ListResponse[View]:
        return self.respond_from(items, position=str(self.offset + len(items)), has_more=has_more)


async def page_params(
    request: Request, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageParams:
    # A coroutine, so FastAPI calls it on the loop instead of handing it to a thread.
    return PageParams(request, limit, cursor)


Paging = Annotated[PageParams, Depends(page_params)]
