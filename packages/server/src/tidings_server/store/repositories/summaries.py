"""Message summaries (what lists and search results show) read as plain rows, not ORM objects.

A list of fifty messages spent most of its time building ORM objects: identity-map entries,
instrumented attributes and a second loader pass for the attachments. Summaries are only
read and rendered, so they are selected column by column into tuples, past the ORM
(`plain_rows`), with statements built once for each combination of filters in use: building
a statement and its cache key cost as much as running it.

Each row brings its attachments along as one JSON array (`JsonRows`), and a list finds
its mailbox by address in the same statement (`page_at`), so a page is one statement. On
PostgreSQL each statement is a round trip; the attachments' own statement, `IN` fifty ids,
was also parsed afresh every time, as psycopg caches statements of up to 50 parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from tidings_server.store.models import Attachment, Mailbox, Message
from tidings_server.store.repositories.base import (
    Page,
    PageRequest,
    bound_keyset,
    keyset_params,
    plain_rows,
)
from tidings_server.store.repositories.identities import mailbox_bound
from tidings_server.store.scope import BoundScope, Scope, ScopedQuery


class AttachmentSummary(NamedTuple):
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


class JsonRows(sa.sql.functions.FunctionElement[Any]):
    """An aggregate of the given columns over a group's rows, as one JSON array of arrays
    (an empty array or NULL for none, depending on the engine)."""

    type = sa.JSON()
    inherit_cache = True
    name = "json_rows"


@compiles(JsonRows, "sqlite")
def _sqlite_rows(element: JsonRows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(JsonRows, "postgresql")
def _postgresql_rows(element: JsonRows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


# The tuples' fields name the model attributes to select, so the two cannot drift apart.
_MESSAGE_COLUMNS = [getattr(Message, f) for f in MessageSummaryRow._fields[:-1]]
_ATTACHMENT_COLUMNS = [getattr(Attachment, f) for f in AttachmentSummary._fields]


def _summary_columns(scope: BoundScope) -> list[Any]:
    """A summary's columns, its attachments (in scope) the last."""
    attachments = (
        sa.select(JsonRows(*_ATTACHMENT_COLUMNS))
        .where(*scope.where(Attachment), Attachment.message_id == Message.id)
        .scalar_subquery()
    )
    return [*_MESSAGE_COLUMNS, attachments]


@functools.lru_cache(maxsize=256)
def _page_query(filters: tuple[str, ...], after_cursor: bool, at_address: bool) -> ScopedQuery[Any]:
    """A mailbox's summaries narrowed by `filters` (names from `MessageFilter.params`). The
    mailbox binds as `mailbox`: its id, or `at_address` its address, found in the same
    statement (in scope: another's mailbox has no messages here)."""

    def build(scope: BoundScope) -> sa.Select[Any]:
        mailbox_id: Any = sa.bindparam("mailbox")
        if at_address:
            mailbox_id = (
                sa.select(Mailbox.id)
                .where(*scope.where(Mailbox), mailbox_bound(by_id=False))
                .scalar_subquery()
            )
        stmt = sa.select(*_summary_columns(scope)).where(
            *scope.where(Message),
            Message.mailbox_id == mailbox_id,
            *(_clause(name) for name in filters),
        )
        return bound_keyset(stmt, Message.id, after_cursor=after_cursor)

    return ScopedQuery(build)


_BY_ID = ScopedQuery(
    lambda scope: sa.select(*_summary_columns(scope)).where(
        *scope.where(Message), Message.id.in_(sa.bindparam("ids", expanding=True))
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
        return await self._page(mailbox_id, filters, request, at_address=False)

    async def page_at(
        self, address: str, filters: MessageFilter, request: PageRequest
    ) -> Page[MessageSummaryRow]:
        """`page` for the mailbox at `address` (as stored: lower case); empty if there is
        none in scope."""
        return await self._page(address, filters, request, at_address=True)

    async def _page(
        self, mailbox: str, filters: MessageFilter, request: PageRequest, *, at_address: bool
    ) -> Page[MessageSummaryRow]:
        params = filters.params()
        query = _page_query(tuple(params), request.before_id is not None, at_address)
        stmt, bound = query.bind(self.scope, mailbox=mailbox, **params, **keyset_params(request))
        rows = await plain_rows(self.session, stmt, bound)
        items = [_summary(row) for row in rows[: request.limit]]
        return Page(items=items, has_more=len(rows) > request.limit)

    async def many(self, message_ids: list[str]) -> list[MessageSummaryRow]:
        if not message_ids:
            return []
        stmt, params = _BY_ID.bind(self.scope, ids=message_ids)
        return [_summary(row) for row in await plain_rows(self.session, stmt, params)]


def _summary(row: sa.Row[Any]) -> MessageSummaryRow:
    # JSON has no booleans on SQLite (0 and 1) and an aggregate no order: both are set here.
    attachments = sorted(
        AttachmentSummary(id_, name, content_type, size, content_id, bool(inline))
        for id_, name, content_type, size, content_id, inline in row[-1] or ()
    )
    return MessageSummaryRow._make((*row[:-1], attachments))
