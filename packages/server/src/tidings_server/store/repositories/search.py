"""Full-text search over messages: FTS5 on SQLite, a weighted tsvector on PostgreSQL.

Subject weighs most, then addresses and attachment names, then the body. The user's query is
reduced to plain terms (all must match, each as a prefix but one-character terms as whole
words), so no query syntax can cause an error.

Only the newest `window` matches of a mailbox are ranked: ranking costs a few microseconds a
matching row, so a common term in a big mailbox would otherwise take as long as the mailbox is
big. The newest matches are found cheaply in index order (message ids and FTS5 rowids grow
with time), then ranked.

On SQLite the mailbox is an indexed token of each entry (the last column, weighed zero), so
a search intersects the terms' matches with its mailbox's inside FTS5 instead of ranking
every mailbox's matches and then discarding the others'. The FTS5 table keeps prefix
indexes (migration 0009), so a prefix term reads one list instead of merging those of every
word that starts with it.

On PostgreSQL each word of the vector carries a two-character tag of its mailbox, and so
does each term of a query (migration 0011): a prefix term gathers its own mailbox's matches
from the GIN index, not every mailbox's. Finding the newest matches can then go two ways,
and the planner cannot tell which is cheaper: its statistics count a tagged word's matches
in the mailbox, but it takes them for matches spread over the whole table. So a search asks
for those two estimates first and chooses itself (`walks_newest_first`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.store.models import Mailbox, Message

_TERM = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 16
# The columns the user's terms may match: never the mailbox token.
_CONTENT = "{subject addresses body attachment_names}"


# How much of each part of a message is indexed, on both engines. A PostgreSQL text vector
# holds at most 1 MB (its words, and two bytes for each place a word is found) and
# `to_tsvector` refuses more, so a body with more distinct words could never be filed. Text
# makes at most four bytes of vector a character, and these bounds keep a vector (addresses
# and names count twice, see `_people`) under 1 MB. SQLite has no such limit, but indexing a
# 10 MB body held its one write connection for 15 s, and every other message waited.
INDEXED_CHARS = {
    "subject": 10_000,
    "addresses": 20_000,
    "body": 150_000,
    "attachment_names": 10_000,
}


@dataclass(frozen=True)
class SearchDocument:
    subject: str
    addresses: str
    body: str
    attachment_names: str

    def bounded(self) -> SearchDocument:
        """The document as it is indexed: each part up to its `INDEXED_CHARS`."""
        return SearchDocument(
            subject=self.subject[: INDEXED_CHARS["subject"]],
            addresses=self.addresses[: INDEXED_CHARS["addresses"]],
            body=self.body[: INDEXED_CHARS["body"]],
            attachment_names=self.attachment_names[: INDEXED_CHARS["attachment_names"]],
        )


@dataclass(frozen=True)
class Hit:
    message_id: str
    rank: float
    snippet: str


def terms(query: str) -> list[str]:
    return _TERM.findall(query)[:MAX_TERMS]


def is_prefix(term: str) -> bool:
    """Whether a term matches as a prefix: a single character would match a large part of
    every word in the index, so it matches only itself."""
    return len(term) > 1


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

    @asynccontextmanager
    async def _ranking_session(self) -> AsyncIterator[AsyncSession]:
        if self.ranking is None:
            yield self.session
            return
        async with self.ranking() as session:
            yield session

    async def add(self, message: Message, document: SearchDocument) -> None:
        document = document.bounded()
        if self.sqlite:
            await self.session.execute(_ADD_SQLITE, _params(message, document))
            return
        await self.session.execute(
            _ADD_POSTGRESQL, {**_params(message, document), "people": _people(document)}
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
        self, mailbox: Mailbox, query: str, *, limit: int, offset: int, window: int
    ) -> list[Hit]:
        """Hits `offset` to `offset + limit` of the newest `window` matches, best first.

        Only `mailbox`'s entries can match, and a Mailbox comes only from a lookup in the
        caller's scope; hits are ids and snippets, which the caller shows only beside the
        summaries its scoped read returns."""
        words = terms(query)
        if not words:
            return []
        if self.sqlite:
            phrases = (
                f'{_CONTENT} : "{w.replace(chr(34), "")}"' + ("*" if is_prefix(w) else "")
                for w in words
            )
            match = " AND ".join([f'mailbox : "{mailbox_token(mailbox.id)}"', *phrases])
            params: dict[str, object] = {"match": match}
        else:
            query_text = " & ".join(
                w.replace("'", "") + (":*" if is_prefix(w) else "") for w in words
            )
            params = {
                "query": query_text,
                "mailbox": mailbox.id,
                "indexed_chars": INDEXED_CHARS["body"],
            }
        params.update(window=window, limit=limit, offset=offset)
        async with self._ranking_session() as session:
            if self.sqlite:
                ranked = _SQLITE_RANKED
            else:
                estimate = (await session.execute(_POSTGRESQL_ESTIMATE, params)).scalar_one()
                walk = walks_newest_first(*_estimated_rows(estimate), window=window)
                ranked = _POSTGRESQL_WALK if walk else _POSTGRESQL_GATHER
            rows = (await session.execute(ranked, params)).all()
        # FTS5's bm25 is lower for better matches; ts_rank is higher.
        sign = -1.0 if self.sqlite else 1.0
        return [Hit(r.message_id, sign * float(r.rank), r.snippet) for r in rows]


# Every message filed adds its entry: built once, like every statement a message costs.
_ADD_SQLITE = sa.text(
    "INSERT INTO message_search (message_id, subject, addresses, body, attachment_names, "
    "mailbox) VALUES (:id, :subject, :addresses, :body, :names, :mailbox)"
)
_ADD_POSTGRESQL = sa.text(
    "UPDATE messages SET search_vector = tidings_search_words("
    "setweight(to_tsvector('simple', :subject), 'A') || "
    "setweight(to_tsvector('simple', CAST(:people AS text)), 'B') || "
    "setweight(to_tsvector('simple', :body), 'C'), mailbox_id) WHERE id = :id"
)

# The newest `window` matches are those at or above the window-th newest match's rowid (all
# of them when fewer match); FTS5 takes both the rowid bound and the order from its index.
_SQLITE_RANKED = sa.text(
    "SELECT message_id, bm25(message_search, 0, 10.0, 4.0, 1.0, 4.0, 0) AS rank, "
    "snippet(message_search, -1, '[', ']', '…', 16) AS snippet "
    "FROM message_search WHERE message_search MATCH :match AND rowid >= coalesce("
    "(SELECT rowid FROM message_search WHERE message_search MATCH :match "
    "ORDER BY rowid DESC LIMIT 1 OFFSET :window - 1), 0) "
    "ORDER BY rank LIMIT :limit OFFSET :offset"
)

# The newest `window` matches are found one of two ways: walking the mailbox's (mailbox_id,
# id) index back from its newest message, testing each (`ts_match_vq` is `@@` in a form no
# index answers), or gathering every match from the GIN index and sorting them. Only those
# matches are ranked, and only the page gets a headline, from the part of the body that is
# indexed (a headline parses all the text it is given: most of a second for a 20 MB body).
# Plans are made for each search's values (no prepared plans, see `create_engine`).
_TAGGED_QUERY = "tidings_search_query(to_tsquery('simple', :query), :mailbox)"
_POSTGRESQL_RANKED = (
    "SELECT id AS message_id, ts_rank(search_vector, tagged) AS rank, "
    "ts_headline('simple', subject || E'\\n' || "
    "left(coalesce(body_text, ''), :indexed_chars), words, "
    "'StartSel=[, StopSel=], MaxWords=24, MinWords=8') AS snippet "
    "FROM (SELECT id, subject, body_text, search_vector FROM messages "
    "WHERE mailbox_id = :mailbox AND {match} ORDER BY id DESC LIMIT :window) AS newest, "
    "to_tsquery('simple', :query) words, {tagged} tagged "
    "ORDER BY rank DESC, id DESC LIMIT :limit OFFSET :offset"
)
_POSTGRESQL_WALK = sa.text(
    _POSTGRESQL_RANKED.format(
        match=f"ts_match_vq(search_vector, {_TAGGED_QUERY})", tagged=_TAGGED_QUERY
    )
)
_POSTGRESQL_GATHER = sa.text(
    _POSTGRESQL_RANKED.format(match=f"search_vector @@ {_TAGGED_QUERY}", tagged=_TAGGED_QUERY)
)
# The planner's estimates of the query's matches (its statistics count tagged words, so
# these are the mailbox's) and of the mailbox's messages: planning only, nothing is read.
_ESTIMATE = (
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM messages WHERE search_vector @@ {tagged} "
    "UNION ALL SELECT 1 FROM messages WHERE mailbox_id = :mailbox"
)
_POSTGRESQL_ESTIMATE = sa.text(_ESTIMATE.format(tagged=_TAGGED_QUERY))


def walks_newest_first(matches: float, messages: float, *, window: int) -> bool:
    """Whether walking a mailbox of `messages` newest first beats gathering its `matches`.

    A walk reads about `window * messages / matches` rows before it has the window; gathering
    reads every match, each costing about 1.7 times a walked row (timed over a million
    messages: the two cost the same at about 5,500 matches in a mailbox of 50,000)."""
    return matches * matches * 5 >= window * messages * 3


def _estimated_rows(plan: Any) -> tuple[float, float]:
    """(matches, messages) from `_POSTGRESQL_ESTIMATE`'s plan (psycopg decodes its JSON)."""
    matches, messages = plan[0]["Plan"]["Plans"]
    return float(matches["Plan Rows"]), float(messages["Plan Rows"])


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
