"""Message summaries (what lists and search results show) read as plain rows, not ORM objects.

A list of fifty messages spent most of its time building ORM objects: identity-map entries,
instrumented attributes and a second loader pass for the attachments. Summaries are only
read and rendered, so they are selected column by column into tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.models import Attachment, Message
from tidings_server.store.repositories.base import Page, PageRequest, keyset
from tidings_server.store.scope import Scope


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


# The tuples' fields name the model attributes to select, so the two cannot drift apart.
_MESSAGE_COLUMNS = [getattr(Message, f) for f in MessageSummaryRow._fields[:-1]]
_ATTACHMENT_COLUMNS = [getattr(Attachment, f) for f in AttachmentSummary._fields]


class MessageSummaries:
    """Summaries of the messages in scope."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def page(
        self, request: PageRequest, *filters: sa.ColumnElement[bool]
    ) -> Page[MessageSummaryRow]:
        """Newest first, keyset-paged by id like every other list."""
        stmt = sa.select(*_MESSAGE_COLUMNS).where(*self.scope.where(Message), *filters)
        stmt = keyset(stmt, Message.id, request)
        rows = (await self.session.execute(stmt)).all()
        items = await self._with_attachments(rows[: request.limit])
        return Page(items=items, has_more=len(rows) > request.limit)

    async def many(self, message_ids: list[str]) -> list[MessageSummaryRow]:
        if not message_ids:
            return []
        stmt = sa.select(*_MESSAGE_COLUMNS).where(
            *self.scope.where(Message), Message.id.in_(message_ids)
        )
        return await self._with_attachments((await self.session.execute(stmt)).all())

    async def _with_attachments(self, rows: Sequence[sa.Row[Any]]) -> list[MessageSummaryRow]:
        attachments: dict[str, list[AttachmentSummary]] = {row[0]: [] for row in rows}
        if rows:
            stmt = (
                sa.select(*_ATTACHMENT_COLUMNS)
                .where(*self.scope.where(Attachment), Attachment.message_id.in_(list(attachments)))
                .order_by(Attachment.id)
            )
            for found in (await self.session.execute(stmt)).all():
                attachments[found[0]].append(AttachmentSummary(*found))
        return [MessageSummaryRow._make((*row, attachments[row[0]])) for row in rows]
