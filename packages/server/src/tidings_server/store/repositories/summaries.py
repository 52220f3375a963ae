"""Message summaries (what lists and search results show) read as plain rows, not ORM objects.

A list of fifty messages spent most of its time building ORM objects: identity-map entries,
instrumented attributes and a second loader pass for the attachments. Summaries are only
read and rendered, so they are selected column by column into tuples, past the ORM
(`plain_rows`), with statements built once for each combination of filters in use: building
a statement and its cache key cost as much as running it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.models import Attachment, Message
from tidings_server.store.repositories.base import (
    Page,
    PageRequest,
    bound_keyset,
    keyset_params,
    plain_rows,
)
from tidings_server.store.scope import BoundScope, Scope, ScopedQuery


class AttachmentSummary(NamedTuple):
    message_id: str
    id: str
    filename: str | None
    content_type: str
    size: int
    content_id: str | None
    inline: bool


class MessageSummaryRow(NamedTuple):
    id: str
    thread_id: str
    thread_match: str
    direction: str
    status: str
    rfc_message_id: str | None
    from_: list[dict[str, str]]
    to: list[dict[str, str]]
    cc: list[dict[str, str]]
    subject: str
    preview: str
    labels: list[str]
    is_read: bool
    is_starred: bool
    size: int
    correlation_id: str | None
    idempotency_key: str | None
    reservation_key: str | None
    marketplace_request_id: str | None
    usage: dict[str, Any] | None
    sent_at: datetime | None
    created_at: datetime
    attachments: list[AttachmentSummary]


@dataclass(frozen=True)
class MessageFilter:
    """What a list of a mailbox's messages may be narrowed by (all must hold)."""

    direction: str | None = None
    unread: bool | None = None
    starred: bool | None = None
    labels: tuple[str, ...] = ()
    thread_id: str | None = None
    from_address: str | None = None
    before: datetime | None = None
    after: datetime | None = None

    def params(self) -> dict[str, Any]:
        """The filters in use, named as the bind parameters of their clauses (`_CLAUSES`)."""
        given = {
            "direction": self.direction,
            "is_read": None if self.unread is None else not self.unread,
            "is_starred": self.starred,
            "thread_id": self.thread_id,
            "created_before": self.before,
            "created_after": self.after,
            "from_address": None if self.from_address is None else self.from_address.lower(),
        }
        params = {name: value for name, value in given.items() if value is not None}
        for n, label in enumerate(self.labels):
            params[f"label_{n}"] = f"%{_like_escaped(f'|{label}|')}%"
        return params


def _like_escaped(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


Clause = Callable[[sa.BindParameter[Any]], sa.ColumnElement[bool]]
_CLAUSES: dict[str, Clause] = {
    "direction": lambda value: Message.direction == value,
    "is_read": lambda value: Message.is_read == value,
    "is_starred": lambda value: Message.is_starred == value,
    "thread_id": lambda value: Message.thread_id == value,
    "created_before": lambda value: Message.created_at < value,
    "created_after": lambda value: Message.created_at > value,
    "from_address": lambda value: Message.from_address == value,
}


def _clause(name: str) -> sa.ColumnElement[bool]:
    value: sa.BindParameter[Any] = sa.bindparam(name)
    if name.startswith("label_"):  # label_index is `|a|b|`
        return Message.label_index.like(value, escape="/")
    return _CLAUSES[name](value)


# The tuples' fields name the model attributes to select, so the two cannot drift apart.
_MESSAGE_COLUMNS = [getattr(Message, f) for f in MessageSummaryRow._fields[:-1]]
_ATTACHMENT_COLUMNS = [getattr(Attachment, f) for f in AttachmentSummary._fields]


@functools.lru_cache(maxsize=256)
def _page_query(filters: tuple[str, ...], after_cursor: bool) -> ScopedQuery[Any]:
    """A mailbox's summaries narrowed by `filters` (names from `MessageFilter.params`)."""

    def build(scope: BoundScope) -> sa.Select[Any]:
        stmt = sa.select(*_MESSAGE_COLUMNS).where(
            *scope.where(Message),
            Message.mailbox_id == sa.bindparam("mailbox_id"),
            *(_clause(name) for name in filters),
        )
        return bound_keyset(stmt, Message.id, after_cursor=after_cursor)

    return ScopedQuery(build)


_BY_ID = ScopedQuery(
    lambda scope: sa.select(*_MESSAGE_COLUMNS).where(
        *scope.where(Message), Message.id.in_(sa.bindparam("ids", expanding=True))
    )
)
_ATTACHMENTS = ScopedQuery(
    lambda scope: (
        sa.select(*_ATTACHMENT_COLUMNS)
        .where(
            *scope.where(Attachment), Attachment.message_id.in_(sa.bindparam("ids", expanding=True))
        )
        .order_by(Attachment.id)
    )
)


class MessageSummaries:
    """Summaries of the messages in scope."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def page(
        self, mailbox_id: str, filters: MessageFilter, request: PageRequest
    ) -> Page[MessageSummaryRow]:
        """A mailbox's messages, newest first, keyset-paged by id like every other list."""
        params = filters.params()
        query = _page_query(tuple(params), request.before_id is not None)
        stmt, bound = query.bind(
            self.scope, mailbox_id=mailbox_id, **params, **keyset_params(request)
        )
        rows = await plain_rows(self.session, stmt, bound)
        items = await self._with_attachments(rows[: request.limit])
        return Page(items=items, has_more=len(rows) > request.limit)

    async def many(self, message_ids: list[str]) -> list[MessageSummaryRow]:
        if not message_ids:
            return []
        stmt, params = _BY_ID.bind(self.scope, ids=message_ids)
        return await self._with_attachments(await plain_rows(self.session, stmt, params))

    async def _with_attachments(self, rows: Sequence[sa.Row[Any]]) -> list[MessageSummaryRow]:
        attachments: dict[str, list[AttachmentSummary]] = {row[0]: [] for row in rows}
        if rows:
            stmt, params = _ATTACHMENTS.bind(self.scope, ids=list(attachments))
            for found in await plain_rows(self.session, stmt, params):
                attachments[found[0]].append(AttachmentSummary._make(found))
        return [MessageSummaryRow._make((*row, attachments[row[0]])) for row in rows]
