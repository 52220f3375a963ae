"""Full-text search over messages: FTS5 on SQLite, a weighted tsvector on PostgreSQL.

Subject weighs most, then addresses and attachment names, then the body. The user's query is
reduced to plain terms (all must match), so no query syntax can cause an error.

On SQLite the mailbox is an indexed token of each entry (the last column, weighed zero), so
a search intersects the terms' matches with its mailbox's inside FTS5 instead of ranking
every mailbox's matches and then discarding the others'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.store.models import Message
from tidings_server.store.scope import Scope

_TERM = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 16
# The columns the user's terms may match: never the mailbox token.
_CONTENT = "{subject addresses body attachment_names}"


@dataclass(frozen=True)
class SearchDocument:
    subject: str
    addresses: str
    body: str
    attachment_names: str


@dataclass(frozen=True)
class Hit:
    message_id: str
    rank: float
    snippet: str


def terms(query: str) -> list[str]:
    return _TERM.findall(query)[:MAX_TERMS]


def mailbox_token(mailbox_id: str) -> str:
    """The mailbox as the one FTS5 token its entries carry (the tokenizer splits on `_`)."""
    return mailbox_id.replace("_", "")


class SearchIndex:
    def __init__(
        self, session: AsyncSession, ranking: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        """`ranking`, when given, runs the ranked query: it can take long over a big mailbox,
        so on SQLite it runs where it does not stop the event loop (see `Runtime.long_reads`)."""
        self.session = session
        self.ranking = ranking
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    async def _ranked(self, stmt: sa.TextClause, params: dict[str, object]) -> list[sa.Row[Any]]:
        if self.ranking is None:
            return list((await self.session.execute(stmt, params)).all())
        async with self.ranking() as session:
            return list((await session.execute(stmt, params)).all())

    async def add(self, message: Message, document: SearchDocument) -> None:
        if self.sqlite:
            await self.session.execute(
                sa.text(
                    "INSERT INTO message_search (message_id, subject, addresses, body, "
                    "attachment_names, mailbox) VALUES (:id, :subject, :addresses, :body, "
                    ":names, :mailbox)"
                ),
                _params(message, document),
            )
            return
        await self.session.execute(
            sa.text(
                "UPDATE messages SET search_vector = "
                "setweight(to_tsvector('simple', :subject), 'A') || "
                "setweight(to_tsvector('simple', CAST(:people AS text)), 'B') || "
                "setweight(to_tsvector('simple', :body), 'C') WHERE id = :id"
            ),
            {**_params(message, document), "people": _people(document)},
        )

    async def remove(self, message_ids: list[str]) -> None:
        if self.sqlite and message_ids:
            await self.session.execute(
                sa.text("DELETE FROM message_search WHERE message_id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": message_ids},
            )

    async def search(
        self, scope: Scope, mailbox_id: str, query: str, *, limit: int, offset: int
    ) -> list[Hit]:
        words = terms(query)
        if not words:
            return []
        # The mailbox was already resolved through `scope`; the join keeps it honest anyway.
        allowed = sa.select(Message.id).where(
            *scope.where(Message), Message.mailbox_id == mailbox_id
        )
        if self.sqlite:
            phrases = (f'{_CONTENT} : "{w.replace(chr(34), "")}"*' for w in words)
            match = " AND ".join([f'mailbox : "{mailbox_token(mailbox_id)}"', *phrases])
            stmt = sa.text(
                "SELECT message_id, bm25(message_search, 0, 10.0, 4.0, 1.0, 4.0, 0) AS rank, "
                "snippet(message_search, -1, '[', ']', '…', 16) AS snippet "
                "FROM message_search WHERE message_search MATCH :match "
                "ORDER BY rank LIMIT :limit OFFSET :offset"
            )
            rows = await self._ranked(stmt, {"match": match, "limit": limit, "offset": offset})
            found = [Hit(r.message_id, -float(r.rank), r.snippet) for r in rows]
        else:
            stmt = sa.text(
                "SELECT id AS message_id, ts_rank(search_vector, q) AS rank, "
                "ts_headline('simple', subject || E'\\n' || coalesce(body_text, ''), q, "
                "'StartSel=[, StopSel=], MaxWords=24, MinWords=8') AS snippet "
                "FROM messages, to_tsquery('simple', :query) q "
                "WHERE mailbox_id = :mailbox AND search_vector @@ q "
                "ORDER BY rank DESC, id DESC LIMIT :limit OFFSET :offset"
            )
            query_text = " & ".join(w.replace("'", "") + ":*" for w in words)
            rows = await self._ranked(
                stmt, {"query": query_text, "mailbox": mailbox_id, "limit": limit, "offset": offset}
            )
            found = [Hit(r.message_id, float(r.rank), r.snippet) for r in rows]
        visible = set(
            await self.session.scalars(allowed.where(Message.id.in_([h.message_id for h in found])))
        )
        return [hit for hit in found if hit.message_id in visible]


def _people(document: SearchDocument) -> str:
    """Addresses and file names, whole and as plain words: PostgreSQL's parser keeps
    `bob@example.org` and `report-2024.pdf` as single tokens that partial queries miss."""
    whole = f"{document.addresses} {document.attachment_names}"
    return f"{whole} {' '.join(_TERM.findall(whole))}"


def _params(message: Message, document: SearchDocument) -> dict[str, str]:
    return {
        "id": message.id,
        "mailbox": mailbox_token(message.mailbox_id),
        "subject": document.subject,
        "addresses": document.addresses,
        "body": document.body,
        "names": document.attachment_names,
    }
